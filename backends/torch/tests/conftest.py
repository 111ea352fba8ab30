"""symm_torch tests: only registers this suite's markers (no global fixtures or state)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "compile: runs torch.compile (slow; deselect with -m 'not compile')")
    config.addinivalue_line("markers", "escnn: needs escnn")
