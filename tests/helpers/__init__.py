"""Code the tests share: builders, helpers for driving the app, outside servers, constants.

Test modules import from here and never from one another (tests/unit/test_layout.py fails
if they do); fixtures built on these are in tests/conftest.py.
"""
