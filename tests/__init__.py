"""Test package (qualified module names: test files may share a basename across suites)."""
