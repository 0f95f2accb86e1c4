"""Asterisk configuration templates ({{ name }} placeholders), shipped as this package's data and
rendered into an instance's config directory by telephony.asterisk_config (`hotline asterisk-config`)."""
