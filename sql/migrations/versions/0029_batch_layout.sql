-- The file layout a batch was read with (etl/sources/layouts.py): the name of the layout, declared for its source in
-- etl/sources/registry.yaml, whose header the file matched. Empty for a source that declares no layouts and for a
-- file refused before its header could be matched.
ALTER TABLE audit.batch ADD COLUMN layout text;
COMMENT ON COLUMN audit.batch.layout IS 'Format détecté : nom de la mise en page déclarée (etl/sources/registry.yaml, layouts) dont l''en-tête du fichier correspond ; vide si la source n''en déclare pas ou si le fichier a été refusé avant.';
