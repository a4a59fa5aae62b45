"""Bluetooth errors in words a user understands, translated from bleak / BlueZ / D-Bus at the boundary."""

from __future__ import annotations

from roomctl.errors import RoomctlError


class BluetoothError(RoomctlError):
    """Something went wrong talking to BlueZ or a wearable. ``retry_after_s`` hints how long to back off."""

    retry_after_s: float = 1.0


class BluetoothUnavailable(BluetoothError):
    """No system D-Bus, no BlueZ, or no usable adapter."""

    retry_after_s = 10.0


class AdapterBusy(BluetoothError):
    """org.bluez.Error.InProgress: scanning and connecting overlapped; it can last minutes on a Pi."""

    retry_after_s = 2.0


class WearableNotFound(BluetoothError):
    """Out of range, switched off, or forgotten by BlueZ: it must advertise again before a connect can work."""

    retry_after_s = 1.0


class ConnectFailed(BluetoothError):
    """A connection attempt failed (aborted, timed out, or the device lacks what its profile needs)."""

    retry_after_s = 2.0


def translate(exc: BaseException, doing: str) -> BluetoothError:
    """A roomctl error for a foreign one (bleak, bleak-retry-connector, dbus-fast, OSError, TimeoutError)."""
    from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError, BleakDeviceNotFoundError, BleakError

    if isinstance(exc, BluetoothError):
        return exc
    text = str(exc) or type(exc).__name__
    if isinstance(exc, BleakBluetoothNotAvailableError):
        return BluetoothUnavailable(f"{doing}: no usable Bluetooth adapter ({text})")
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError | PermissionError):
        return BluetoothUnavailable(
            f"{doing}: cannot reach the system D-Bus ({text}). Is dbus running, and may this user talk to BlueZ "
            "(group 'bluetooth')? For the emulator, set DBUS_SYSTEM_BUS_ADDRESS."
        )
    if isinstance(exc, BleakDBusError):
        name = exc.dbus_error
        if name == "org.bluez.Error.InProgress":
            return AdapterBusy(f"{doing}: the Bluetooth adapter is busy with another operation; retrying")
        if name in ("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner"):
            return BluetoothUnavailable(f"{doing}: BlueZ (bluetoothd) is not running on the system bus")
        if name == "org.freedesktop.DBus.Error.UnknownObject":
            return WearableNotFound(f"{doing}: BlueZ no longer knows the wearable; waiting for it to advertise again")
        if "le-connection-abort-by-local" in text:
            return ConnectFailed(f"{doing}: the adapter aborted the connection (radio interference?); retrying")
        return ConnectFailed(f"{doing}: BlueZ said {text}")
    if "in progress" in text.lower() or "InProgress" in text:
        return AdapterBusy(f"{doing}: the Bluetooth adapter is busy with another operation; retrying")
    if isinstance(exc, BleakDeviceNotFoundError) or (isinstance(exc, BleakError) and "not found" in text.lower()):
        return WearableNotFound(f"{doing}: the wearable is not in range or BlueZ has forgotten it")
    if isinstance(exc, TimeoutError):
        return ConnectFailed(f"{doing}: no answer in time (out of range, or D-Bus stalled)")
    if isinstance(exc, EOFError | BrokenPipeError | ConnectionResetError):
        return ConnectFailed(f"{doing}: the D-Bus connection broke ({text})")
    return ConnectFailed(f"{doing}: {text}")
