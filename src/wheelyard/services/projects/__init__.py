"""Projects: packages and releases as people see them, maintainers and roles, what
owners and admins change, classifiers, licenses, project URLs, READMEs, where a release
file lives, and the two-factor requirement a project may set.
"""
