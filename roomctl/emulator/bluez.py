"""The BlueZ D-Bus objects bleak talks to: Adapter1, Device1, GattService1, GattCharacteristic1, GattDescriptor1.

Only what bleak 3.x uses is implemented. The behaviour (what a Connect does, which errors to inject) lives in the
callbacks the owner passes in, so these classes stay thin D-Bus shapes.
"""

# No `from __future__ import annotations` here: dbus-fast reads these annotations as D-Bus signatures.

from collections.abc import Callable
from typing import Annotated

from dbus_fast import DBusError, Variant
from dbus_fast.annotations import (
    DBusBool,
    DBusBytes,
    DBusDict,
    DBusInt16,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
    DBusUInt16,
)
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property

StrList = Annotated[list[str], DBusSignature("as")]
PathList = Annotated[list[str], DBusSignature("ao")]
ManufacturerData = Annotated[dict[int, Variant], DBusSignature("a{qv}")]

R = PropertyAccess.READ


class Adapter(ServiceInterface):
    """``/org/bluez/hci0``: powered, central role, discovery on and off."""

    def __init__(self, address: str, on_discovering: Callable[[bool], None]) -> None:
        super().__init__("org.bluez.Adapter1")
        self._address = address
        self._on_discovering = on_discovering
        self._discovering = False
        self._discovery_clients = 0  # StartDiscovery calls not yet stopped (BlueZ counts them per client)

    @dbus_property(access=R)
    def Address(self) -> DBusStr:
        return self._address

    @dbus_property(access=R)
    def Name(self) -> DBusStr:
        return "roomctl-emulator"

    @dbus_property(access=R)
    def Alias(self) -> DBusStr:
        return "roomctl-emulator"

    @dbus_property(access=R)
    def Powered(self) -> DBusBool:
        return True

    @dbus_property(access=R)
    def Discovering(self) -> DBusBool:
        return self._discovering

    @dbus_property(access=R)
    def Roles(self) -> StrList:
        return ["central", "peripheral"]

    @dbus_method()
    def SetDiscoveryFilter(self, properties: DBusDict) -> None:
        return None

    @dbus_method()
    def StartDiscovery(self) -> None:
        self._discovery_clients += 1
        self._set_discovering(True)

    @dbus_method()
    def StopDiscovery(self) -> None:
        if self._discovery_clients == 0:
            raise DBusError("org.bluez.Error.Failed", "No discovery started")
        self._discovery_clients -= 1
        if self._discovery_clients == 0:
            self._set_discovering(False)

    @dbus_method()
    def RemoveDevice(self, device: DBusObjectPath) -> None:
        return None

    def _set_discovering(self, on: bool) -> None:
        if on != self._discovering:
            self._discovering = on
            self.emit_properties_changed({"Discovering": on})
            self._on_discovering(on)

    @property
    def discovering(self) -> bool:
        return self._discovering


class Device(ServiceInterface):
    """``/org/bluez/hci0/dev_XX_...``: advertisement data, connection state; Connect/Disconnect go to the owner."""

    def __init__(
        self,
        address: str,
        name: str,
        uuids: list[str],
        on_connect: Callable[[], None],
        on_disconnect: Callable[[], None],
        manufacturer_data: dict[int, bytes] | None = None,
    ) -> None:
        super().__init__("org.bluez.Device1")
        self._address = address
        self._name = name
        self._uuids = uuids
        self._on_connect = on_connect
        self._on_disconnect = on_disconnect
        self._manufacturer = manufacturer_data or {}
        self.connected = False
        self.services_resolved = False
        self.rssi = -60

    @dbus_property(access=R)
    def Address(self) -> DBusStr:
        return self._address

    @dbus_property(access=R)
    def AddressType(self) -> DBusStr:
        return "public"

    @dbus_property(access=R)
    def Name(self) -> DBusStr:
        return self._name

    @dbus_property(access=R)
    def Alias(self) -> DBusStr:
        return self._name

    @dbus_property(access=R)
    def Adapter(self) -> DBusObjectPath:
        return "/org/bluez/hci0"

    @dbus_property(access=R)
    def Paired(self) -> DBusBool:
        return False

    @dbus_property(access=R)
    def Bonded(self) -> DBusBool:
        return False

    @dbus_property(access=R)
    def Trusted(self) -> DBusBool:
        return False

    @dbus_property(access=R)
    def Connected(self) -> DBusBool:
        return self.connected

    @dbus_property(access=R)
    def ServicesResolved(self) -> DBusBool:
        return self.services_resolved

    @dbus_property(access=R)
    def UUIDs(self) -> StrList:
        return self._uuids

    @dbus_property(access=R)
    def RSSI(self) -> DBusInt16:
        return self.rssi

    @dbus_property(access=R)
    def ManufacturerData(self) -> ManufacturerData:
        return {k: Variant("ay", v) for k, v in self._manufacturer.items()}

    @dbus_method()
    def Connect(self) -> None:
        self._on_connect()

    @dbus_method()
    def Disconnect(self) -> None:
        self._on_disconnect()

    @dbus_method()
    def Pair(self) -> None:
        raise DBusError("org.bluez.Error.NotSupported", "pairing is not emulated")

    def set_connection(self, connected: bool, resolved: bool) -> None:
        self.connected = connected
        self.services_resolved = resolved
        self.emit_properties_changed({"Connected": connected, "ServicesResolved": resolved})

    def set_rssi(self, rssi: int) -> None:
        self.rssi = rssi
        self.emit_properties_changed({"RSSI": rssi})


class GattService(ServiceInterface):
    def __init__(self, uuid: str, device_path: str) -> None:
        super().__init__("org.bluez.GattService1")
        self._uuid = uuid
        self._device = device_path

    @dbus_property(access=R)
    def UUID(self) -> DBusStr:
        return self._uuid

    @dbus_property(access=R)
    def Device(self) -> DBusObjectPath:
        return self._device

    @dbus_property(access=R)
    def Primary(self) -> DBusBool:
        return True

    @dbus_property(access=R)
    def Includes(self) -> PathList:
        return []


ReadHandler = Callable[[], bytes]
WriteHandler = Callable[[bytes], None]


class GattCharacteristic(ServiceInterface):
    """A characteristic; a notification is a PropertiesChanged of ``Value`` while ``Notifying``."""

    def __init__(
        self,
        uuid: str,
        service_path: str,
        flags: list[str],
        read: ReadHandler | None = None,
        write: WriteHandler | None = None,
        is_connected: Callable[[], bool] = lambda: True,
    ) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self._uuid = uuid
        self._service = service_path
        self._flags = flags
        self._read = read
        self._write = write
        self._is_connected = is_connected
        self.value = b""
        self.notifying = False

    @dbus_property(access=R)
    def UUID(self) -> DBusStr:
        return self._uuid

    @dbus_property(access=R)
    def Service(self) -> DBusObjectPath:
        return self._service

    @dbus_property(access=R)
    def Flags(self) -> StrList:
        return self._flags

    @dbus_property(access=R)
    def Value(self) -> DBusBytes:
        return self.value

    @dbus_property(access=R)
    def Notifying(self) -> DBusBool:
        return self.notifying

    @dbus_property(access=R)
    def MTU(self) -> DBusUInt16:
        return 185

    def _require_connection(self) -> None:
        if not self._is_connected():
            raise DBusError("org.bluez.Error.NotConnected", "Not Connected")

    @dbus_method()
    def ReadValue(self, options: DBusDict) -> DBusBytes:
        self._require_connection()
        if self._read is None:
            raise DBusError("org.bluez.Error.NotPermitted", "Read not permitted")
        self.value = self._read()
        return self.value

    @dbus_method()
    def WriteValue(self, value: DBusBytes, options: DBusDict) -> None:
        self._require_connection()
        if self._write is None:
            raise DBusError("org.bluez.Error.NotPermitted", "Write not permitted")
        self._write(bytes(value))

    @dbus_method()
    def StartNotify(self) -> None:
        self._require_connection()
        if not self.notifying:
            self.notifying = True
            self.emit_properties_changed({"Notifying": True})

    @dbus_method()
    def StopNotify(self) -> None:
        if self.notifying:
            self.notifying = False
            self.emit_properties_changed({"Notifying": False})

    def notify(self, value: bytes) -> bool:
        """Send one notification; ``False`` when nobody subscribed (the value is kept for reads)."""
        self.value = value
        if not self.notifying:
            return False
        self.emit_properties_changed({"Value": value})
        return True

    def reset(self) -> None:
        self.notifying = False


class GattDescriptor(ServiceInterface):
    """The Client Characteristic Configuration descriptor (0x2902) bleak lists under a notifying characteristic."""

    def __init__(self, uuid: str, char_path: str) -> None:
        super().__init__("org.bluez.GattDescriptor1")
        self._uuid = uuid
        self._char = char_path
        self._value = b"\x00\x00"

    @dbus_property(access=R)
    def UUID(self) -> DBusStr:
        return self._uuid

    @dbus_property(access=R)
    def Characteristic(self) -> DBusObjectPath:
        return self._char

    @dbus_property(access=R)
    def Value(self) -> DBusBytes:
        return self._value

    @dbus_property(access=R)
    def Flags(self) -> StrList:
        return ["read", "write"]

    @dbus_method()
    def ReadValue(self, options: DBusDict) -> DBusBytes:
        return self._value

    @dbus_method()
    def WriteValue(self, value: DBusBytes, options: DBusDict) -> None:
        self._value = bytes(value)
