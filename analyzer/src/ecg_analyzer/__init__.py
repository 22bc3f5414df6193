"""ecg_analyzer."""
