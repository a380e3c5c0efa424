"""cfnfix's built-in rules, one module each, grouped by family.

They are loaded through the ``cfnfix.rules`` entry point, exactly like third-party
rules: nothing in the cfnfix engine names them.
"""
