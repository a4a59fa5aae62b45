"""MQTT: the dashboards' feed. ``from roomctl.mqtt.publisher import MqttPublisher`` (paho is imported only there)."""
