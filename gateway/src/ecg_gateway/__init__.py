"""ecg_gateway."""
