"""ecg_contracts."""
