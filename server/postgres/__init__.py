"""PostgreSQL as the server's database (`[database] url`): the URL, the first connection, and
`PostgresDatabase`, the second engine behind the store seam (`server.db.engine.Database`).

The stores' SQL, the claims (`FOR UPDATE SKIP LOCKED`) and the one-publisher lock live with the
domains; this package only translates and runs them.
"""
