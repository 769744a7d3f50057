"""The MQTT link, its topic rules and Home Assistant discovery."""
