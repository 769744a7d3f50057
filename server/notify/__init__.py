"""Notification channels: email through SMTP, everything else through Apprise URLs."""
