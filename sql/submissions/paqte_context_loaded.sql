-- Whether the warehouse holds any QPV in force on a day (the referential is loaded).
SELECT EXISTS (SELECT 1 FROM core.qpv q WHERE q.valid_from <= :day AND (q.valid_to IS NULL OR q.valid_to > :day))
