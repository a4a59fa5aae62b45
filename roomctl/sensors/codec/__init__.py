"""What the vendor decoders share (:mod:`roomctl.sensors.vendors`): IEEE-11073 SFLOAT/FLOAT, CRCs and checksums, the
stream decoders that split and join packets across notifications, and the fields, plausible ranges and quality rule
every decoder applies. Pure: bytes in, values out."""
