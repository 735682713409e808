"""The regional portal: the préfectures' officers log in, download their workbook, deposit it and read the verdict.

`accounts` (Argon2id passwords, `observatoire users`), `store` (sessions, journal, failed-login locks, deposits, each
officer's queries under its région's PostgreSQL role), `deposits` (the intake's checker, landing, triggering the
intake DAG), `pages` (the French HTML), `app` (the FastAPI app behind `observatoire portal`). Its tables are in the
warehouse's schema `portal` (migration 0031_portal).
"""
