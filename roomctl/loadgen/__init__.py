"""``roomctl loadgen``: many simulated rooms publishing the real contract, to size a facility's broker and station.

Each simulated room is made of the daemon's own parts: its hub events are the project's models, they go through an
outbox into the real :class:`~roomctl.mqtt.publisher.MqttPublisher` (birth, last will, retained state, expiry, seq,
replay after an outage), so whatever the room daemon publishes, the load generator publishes the same way.
"""
