"""PostgreSQL as the server's database (`[database] url`): the URL and the first connection.

The store itself (SQL behind the store seam, migrations, claims) comes with the domain layout;
this package holds what does not depend on it.
"""
