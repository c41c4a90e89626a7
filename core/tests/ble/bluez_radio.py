'''dbusmock template: BlueZ 5 with a "radio" between two local applications.

The test's peripheral (bluer) registers a GATT application and an
advertisement on one adapter, as it would with bluetoothd; the test's
central (btleplug) scans and connects on another adapter. This template
stands in for the air between them:

  * Mock.EnablePeripheralRole(adapter) gives the adapter GattManager1 and
    LEAdvertisingManager1, recording what is registered;
  * StartDiscovery on any other adapter turns each registered
    advertisement into a device there (its local name, its service UUIDs,
    RSSI -50), as a scan would see it;
  * Device1.Connect mirrors the registered application's services and
    characteristics under the device (flags, MTU 247), marks it connected
    and its services resolved;
  * ReadValue / WriteValue on a mirrored characteristic call the
    application's, with the options bluetoothd passes (device, mtu, type);
  * StartNotify subscribes to the application's characteristic and
    re-emits every value it notifies on the mirrored one; Disconnect (and
    StopNotify) call the application's StopNotify.

It checks our D-Bus usage of both roles end to end, not radio timing.
Based on dbusmock's bluez5 template, whose methods it keeps.
'''
import dbus
from dbusmock import mockobject, OBJECT_MANAGER_IFACE
from dbusmock.templates.bluez5 import *          # noqa: F401,F403  (load, AddAdapter, ...)
from dbusmock.templates import bluez5 as _b

GATT_SERVICE_IFACE = 'org.bluez.GattService1'
GATT_CHRC_IFACE = 'org.bluez.GattCharacteristic1'
GATT_MANAGER_IFACE = 'org.bluez.GattManager1'
ADV_MANAGER_IFACE = 'org.bluez.LEAdvertisingManager1'
ADV_IFACE = 'org.bluez.LEAdvertisement1'
MTU = 247

# peripheral adapter path -> {'apps': [(owner, path)], 'advs': [(owner, path)]}
PERIPHERALS = {}
# mirrored characteristic path -> (owner, application characteristic path, remote device path)
MIRRORS = {}
# mirrored characteristic path -> signal match to remove on StopNotify
SUBSCRIPTIONS = {}


def _props_changed(obj, iface, changed):
    obj.EmitSignal(dbus.PROPERTIES_IFACE, 'PropertiesChanged', 'sa{sv}as', [iface, changed, []])


def _owner_of(bus, path):
    '''The unique bus name serving object `path` (the registering app).'''
    names = bus.get_object('org.freedesktop.DBus', '/org/freedesktop/DBus').ListNames(
        dbus_interface='org.freedesktop.DBus')
    for name in names:
        if not name.startswith(':') or name == bus.get_unique_name():
            continue
        try:
            bus.get_object(name, path, introspect=False).Introspect(
                dbus_interface='org.freedesktop.DBus.Introspectable', timeout=2)
            return name
        except dbus.exceptions.DBusException:
            continue
    raise dbus.exceptions.DBusException(f'nobody serves {path}', name='org.bluez.Error.Failed')


def _record(adapter, kind, path):
    bus = adapter.connection
    PERIPHERALS.setdefault(adapter.__dbus_object_path__, {'apps': [], 'advs': []})[kind].append(
        (_owner_of(bus, str(path)), str(path)))


def _forget(adapter, kind, path):
    entries = PERIPHERALS.get(adapter.__dbus_object_path__, {}).get(kind, [])
    entries[:] = [e for e in entries if e[1] != str(path)]


@dbus.service.method(_b.BLUEZ_MOCK_IFACE, in_signature='ss', out_signature='s')
def AddAdapter(self, device_name, system_name):
    '''The template's adapter, whose scans see the other adapters' advertisements.'''
    path = _b.AddAdapter(self, device_name, system_name)
    mockobject.objects[path].AddMethods(_b.ADAPTER_IFACE, [('StartDiscovery', '', '', StartDiscovery)])
    return path


@dbus.service.method(_b.BLUEZ_MOCK_IFACE, in_signature='s', out_signature='')
def EnablePeripheralRole(self, adapter_name):
    adapter = mockobject.objects['/org/bluez/' + adapter_name]
    adapter.AddMethods(GATT_MANAGER_IFACE, [
        ('RegisterApplication', 'oa{sv}', '', RegisterApplication),
        ('UnregisterApplication', 'o', '', UnregisterApplication),
    ])
    adapter.AddMethods(ADV_MANAGER_IFACE, [
        ('RegisterAdvertisement', 'oa{sv}', '', RegisterAdvertisement),
        ('UnregisterAdvertisement', 'o', '', UnregisterAdvertisement),
    ])
    adapter.AddProperties(ADV_MANAGER_IFACE, {
        'ActiveInstances': dbus.Byte(0, variant_level=1),
        'SupportedInstances': dbus.Byte(5, variant_level=1),
        'SupportedIncludes': dbus.Array(['tx-power', 'local-name'], signature='s', variant_level=1),
    })


@dbus.service.method(GATT_MANAGER_IFACE, in_signature='oa{sv}', out_signature='')
def RegisterApplication(adapter, path, _options):
    _record(adapter, 'apps', path)


@dbus.service.method(GATT_MANAGER_IFACE, in_signature='o', out_signature='')
def UnregisterApplication(adapter, path):
    _forget(adapter, 'apps', path)


@dbus.service.method(ADV_MANAGER_IFACE, in_signature='oa{sv}', out_signature='')
def RegisterAdvertisement(adapter, path, _options):
    _record(adapter, 'advs', path)


@dbus.service.method(ADV_MANAGER_IFACE, in_signature='o', out_signature='')
def UnregisterAdvertisement(adapter, path):
    _forget(adapter, 'advs', path)


@dbus.service.method(_b.BLUEZ_MOCK_IFACE, in_signature='s', out_signature='as')
def Registered(self, adapter_name):
    '''What is registered on the adapter: "app <path>" and "adv <path>" lines.'''
    entries = PERIPHERALS.get('/org/bluez/' + adapter_name, {'apps': [], 'advs': []})
    return [f'app {p}' for _, p in entries['apps']] + [f'adv {p}' for _, p in entries['advs']]


@dbus.service.method(_b.ADAPTER_IFACE, in_signature='', out_signature='')
def StartDiscovery(adapter):
    _b.StartDiscovery(adapter)
    bus = adapter.connection
    for peripheral_path, entries in PERIPHERALS.items():
        if peripheral_path == adapter.__dbus_object_path__:
            continue
        for owner, adv_path in entries['advs']:
            adv = bus.get_object(owner, adv_path, introspect=False).GetAll(
                ADV_IFACE, dbus_interface=dbus.PROPERTIES_IFACE, timeout=5)
            address = str(mockobject.objects[peripheral_path].props[_b.ADAPTER_IFACE]['Address'])
            device_path = f'{adapter.__dbus_object_path__}/dev_{address.replace(":", "_")}'
            name = str(adv.get('LocalName', ''))
            if device_path not in mockobject.objects:
                _b.AddDevice(mockobject.objects['/'], adapter.__dbus_object_path__.split('/')[-1],
                             address, name)
            device = mockobject.objects[device_path]
            device.peripheral = peripheral_path
            p = device.props[_b.DEVICE_IFACE]
            # bluetoothd's types (the template declares some as arrays of dicts)
            p['ManufacturerData'] = dbus.Dictionary({}, signature='qv', variant_level=1)
            p['ServiceData'] = dbus.Dictionary({}, signature='sv', variant_level=1)
            p['AdvertisingData'] = dbus.Dictionary({}, signature='yv', variant_level=1)
            p['UUIDs'] = dbus.Array([str(u) for u in adv.get('ServiceUUIDs', [])],
                                    signature='s', variant_level=1)
            p['RSSI'] = dbus.Int16(-50, variant_level=1)
            device.AddMethods(_b.DEVICE_IFACE, [('Connect', '', '', Connect),
                                                ('Disconnect', '', '', Disconnect)])
            _props_changed(device, _b.DEVICE_IFACE,
                           {k: p[k] for k in ('ManufacturerData', 'UUIDs', 'RSSI')})


def _remote_central(device):
    '''The path, on the peripheral's adapter, of the central connecting.'''
    central = mockobject.objects[device.props[_b.DEVICE_IFACE]['Adapter']]
    address = str(central.props[_b.ADAPTER_IFACE]['Address'])
    return dbus.ObjectPath(f'{device.peripheral}/dev_{address.replace(":", "_")}')


@dbus.service.method(_b.DEVICE_IFACE, in_signature='', out_signature='')
def Connect(device):
    bus = device.connection
    path = device.__dbus_object_path__
    remote = _remote_central(device)
    root = mockobject.objects['/']
    for owner, app in PERIPHERALS[device.peripheral]['apps']:
        objects = bus.get_object(owner, app, introspect=False).GetManagedObjects(
            dbus_interface=OBJECT_MANAGER_IFACE, timeout=5)
        services = sorted(p for p, i in objects.items() if GATT_SERVICE_IFACE in i)
        for s_index, service in enumerate(services, start=1):
            s_path = f'{path}/service{s_index:04x}'
            if s_path in mockobject.objects:
                continue
            s_props = {
                'UUID': dbus.String(objects[service][GATT_SERVICE_IFACE]['UUID'], variant_level=1),
                'Primary': dbus.Boolean(True, variant_level=1),
                'Device': dbus.ObjectPath(path, variant_level=1),
                'Includes': dbus.Array([], signature='o', variant_level=1),
            }
            # A method, so the interface comes before the child nodes in the
            # introspection XML (btleplug's parser requires it).
            root.AddObject(s_path, GATT_SERVICE_IFACE, s_props, [('MockNoop', '', '', '')])
            chars = sorted(p for p, i in objects.items()
                           if GATT_CHRC_IFACE in i and str(i[GATT_CHRC_IFACE]['Service']) == service)
            for c_index, chrc in enumerate(chars, start=1):
                c_path = f'{s_path}/char{c_index:04x}'
                app_props = objects[chrc][GATT_CHRC_IFACE]
                c_props = {
                    'UUID': dbus.String(app_props['UUID'], variant_level=1),
                    'Service': dbus.ObjectPath(s_path, variant_level=1),
                    'Value': dbus.Array([], signature='y', variant_level=1),
                    'Notifying': dbus.Boolean(False, variant_level=1),
                    'Flags': dbus.Array([str(f) for f in app_props['Flags']], signature='s',
                                        variant_level=1),
                    'MTU': dbus.UInt16(MTU, variant_level=1),
                }
                root.AddObject(c_path, GATT_CHRC_IFACE, c_props, [
                    ('ReadValue', 'a{sv}', 'ay', ReadValue),
                    ('WriteValue', 'aya{sv}', '', WriteValue),
                    ('StartNotify', '', '', StartNotify),
                    ('StopNotify', '', '', StopNotify),
                ])
                MIRRORS[c_path] = (owner, str(chrc), remote)
                root.EmitSignal(OBJECT_MANAGER_IFACE, 'InterfacesAdded', 'oa{sa{sv}}',
                                [dbus.ObjectPath(c_path), {GATT_CHRC_IFACE: c_props}])
    changed = {'Connected': dbus.Boolean(True, variant_level=1),
               'ServicesResolved': dbus.Boolean(True, variant_level=1)}
    device.props[_b.DEVICE_IFACE].update(changed)
    _props_changed(device, _b.DEVICE_IFACE, changed)


@dbus.service.method(_b.DEVICE_IFACE, in_signature='', out_signature='')
def Disconnect(device):
    prefix = device.__dbus_object_path__ + '/'
    for c_path in [p for p in SUBSCRIPTIONS if p.startswith(prefix)]:
        _stop(mockobject.objects[c_path])
    changed = {'Connected': dbus.Boolean(False, variant_level=1),
               'ServicesResolved': dbus.Boolean(False, variant_level=1)}
    device.props[_b.DEVICE_IFACE].update(changed)
    _props_changed(device, _b.DEVICE_IFACE, changed)


def _app(chrc):
    owner, path, remote = MIRRORS[chrc.__dbus_object_path__]
    return chrc.connection.get_object(owner, path, introspect=False), remote


@dbus.service.method(GATT_CHRC_IFACE, in_signature='a{sv}', out_signature='ay')
def ReadValue(chrc, _options):
    app, remote = _app(chrc)
    options = dbus.Dictionary({'device': remote, 'mtu': dbus.UInt16(MTU)}, signature='sv')
    return app.ReadValue(options, dbus_interface=GATT_CHRC_IFACE, timeout=5, byte_arrays=False)


@dbus.service.method(GATT_CHRC_IFACE, in_signature='aya{sv}', out_signature='')
def WriteValue(chrc, value, options):
    app, remote = _app(chrc)
    forwarded = dbus.Dictionary({'device': remote, 'mtu': dbus.UInt16(MTU),
                                 'type': dbus.String(options.get('type', 'request'))},
                                signature='sv')
    app.WriteValue(dbus.Array(value, signature='y'), forwarded,
                   dbus_interface=GATT_CHRC_IFACE, timeout=5)


@dbus.service.method(GATT_CHRC_IFACE, in_signature='', out_signature='')
def StartNotify(chrc):
    owner, path, _ = MIRRORS[chrc.__dbus_object_path__]

    def relay(iface, changed, _invalidated):
        if iface == GATT_CHRC_IFACE and 'Value' in changed:
            value = dbus.Array(changed['Value'], signature='y', variant_level=1)
            chrc.props[GATT_CHRC_IFACE]['Value'] = value
            _props_changed(chrc, GATT_CHRC_IFACE, {'Value': value})

    SUBSCRIPTIONS[chrc.__dbus_object_path__] = chrc.connection.add_signal_receiver(
        relay, signal_name='PropertiesChanged', dbus_interface=dbus.PROPERTIES_IFACE,
        bus_name=owner, path=path)
    app, _ = _app(chrc)
    app.StartNotify(dbus_interface=GATT_CHRC_IFACE, timeout=5)
    chrc.props[GATT_CHRC_IFACE]['Notifying'] = dbus.Boolean(True, variant_level=1)
    _props_changed(chrc, GATT_CHRC_IFACE, {'Notifying': dbus.Boolean(True, variant_level=1)})


def _stop(chrc):
    match = SUBSCRIPTIONS.pop(chrc.__dbus_object_path__, None)
    if match is None:
        return
    match.remove()
    app, _ = _app(chrc)
    try:
        app.StopNotify(dbus_interface=GATT_CHRC_IFACE, timeout=5)
    except dbus.exceptions.DBusException:
        pass  # the application is gone already
    chrc.props[GATT_CHRC_IFACE]['Notifying'] = dbus.Boolean(False, variant_level=1)


@dbus.service.method(GATT_CHRC_IFACE, in_signature='', out_signature='')
def StopNotify(chrc):
    _stop(chrc)
