"""Every registry is derived from the vendor modules: one module per vendor is the whole definition."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from roomctl.config.wearables import WearableConfig
from roomctl.emulator.devices import CATALOGUE, DEVICE_CLASSES
from roomctl.models import Quantity, TechnicalCondition
from roomctl.sensors.profiles import PROFILES
from roomctl.sensors.vendor import Characteristic, WearableProfile
from roomctl.sensors.vendors import CHARACTERISTICS, DECODERS, VENDOR_MODULES, resolve_profile, stream_decoder_for


def test_every_vendor_module_is_found() -> None:
    names = {m.__name__.rsplit(".", 1)[1] for m in VENDOR_MODULES}
    assert names == {"berrymed", "jumper", "nonin", "pc60fw", "sig_health", "sig_heart_rate", "sig_plx", "viatom"}
    assert set(PROFILES) == {
        "heart_rate", "plx", "berrymed", "nonin", "viatom", "jumper", "pc60fw", "thermometer", "blood_pressure"
    }  # fmt: skip


def test_the_config_the_emulator_and_the_decoders_agree_with_the_profiles() -> None:
    choices = WearableConfig.model_json_schema()["properties"]["profile"]["enum"]  # what a room file may name
    assert set(choices) == set(PROFILES)
    assert set(DEVICE_CLASSES) == set(PROFILES)
    assert {profile for profile, _, _ in CATALOGUE} == set(PROFILES)
    for name, cls in DEVICE_CLASSES.items():
        assert cls.PROFILE is PROFILES[name]
    for profile in PROFILES.values():
        for notify in profile.notify:
            assert CHARACTERISTICS[notify.decoder] is notify.characteristic
            assert resolve_profile(notify.uuid) == notify.decoder
        if profile.battery is not None:
            assert CHARACTERISTICS["battery_level"] is profile.battery


def test_uuids_are_unique_and_lower_case() -> None:
    uuids = [c.uuid for c in CHARACTERISTICS.values()]
    assert len(set(uuids)) == len(uuids)
    assert all(u == u.lower() for u in uuids)
    assert set(DECODERS) == set(CHARACTERISTICS)


def test_a_config_names_only_a_known_profile() -> None:
    with pytest.raises(ValidationError) as info:
        WearableConfig(id="spo2", profile="acme", address="AA:BB:CC:DD:EE:FF")
    assert "berrymed" in str(info.value)
    assert "pc60fw" in str(info.value)


def test_sensor_keys_come_from_the_condition_rules() -> None:
    nonin = PROFILES["nonin"]
    assert "weak_signal" in nonin.sensor_keys  # the hand-kept list in the link missed it
    assert nonin.conditions_in({"weak_signal": True, "finger_present": True}) == {TechnicalCondition.POOR_SIGNAL}
    assert PROFILES["heart_rate"].sensor_keys == {"sensor_contact"}
    assert PROFILES["thermometer"].sensor_keys == frozenset()


def test_a_new_vendor_is_one_description() -> None:
    """What a vendor module exports is enough for the link: a stream decoder per characteristic, rules, battery."""
    char = Characteristic("heart_rate", "0000ffe1-0000-1000-8000-00805f9b34fb", DECODERS["heart_rate"])
    profile = WearableProfile("acme", "ACME strap", "0000ffe0-0000-1000-8000-00805f9b34fb", ())
    assert char.new_stream().feed(bytes([0x06, 72]))[0].values == {Quantity.HEART_RATE: 72.0}
    assert profile.sensor_keys == frozenset()
    assert profile.battery_uuid is None
    assert stream_decoder_for("berrymed") is not stream_decoder_for("berrymed")  # fresh state per link
