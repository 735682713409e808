-- The perimeters of the 2024 QPV (etl/sources/anct_perimetres.py): the ANCT's GeoJSON, one feature per QPV, in WGS84
-- longitude/latitude. Geometries are GeoJSON text: the embedded warehouse has no PostGIS, and the report draws them
-- itself. line_no is the feature's rank in the file (from 1).
CREATE TABLE raw.anct_qpv_perimetre (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    fid text, code_qp text, lib_qp text, insee_reg text, lib_reg text, insee_dep text, lib_dep text, insee_com text,
    lib_com text, siren_epci text, geometry_type text, geometry text
);
CREATE INDEX raw_anct_qpv_perimetre_batch_idx ON raw.anct_qpv_perimetre (batch_id);
COMMENT ON TABLE raw.anct_qpv_perimetre IS 'The ANCT''s perimeters of the 2024 QPV as read: one row per GeoJSON feature, its properties as text (communes joined by ", ", codes as written) and its geometry as GeoJSON text.';

CREATE TABLE staging.qpv_perimetre (
    batch_id bigint NOT NULL, line_no int NOT NULL,
    code_qpv text NOT NULL, libelle text NOT NULL, departement text NOT NULL, communes text NOT NULL,
    geometrie_type text NOT NULL, geometrie text NOT NULL, geometrie_simplifiee text NOT NULL,
    lon_min double precision, lat_min double precision, lon_max double precision, lat_max double precision,
    repare boolean NOT NULL, reparation text NOT NULL, probleme text NOT NULL
);
CREATE INDEX staging_qpv_perimetre_batch_idx ON staging.qpv_perimetre (batch_id);

CREATE TABLE core.qpv_perimetre (
    code_qpv text PRIMARY KEY CHECK (code_qpv ~ '^QN(0[0-9][0-9]|02[AB]|97[1-6])[0-9]{2}[NMI]$'),
    geometrie_type text NOT NULL CHECK (geometrie_type IN ('Polygon', 'MultiPolygon')),
    geometrie text NOT NULL,
    geometrie_simplifiee text NOT NULL,
    lon_min double precision NOT NULL, lat_min double precision NOT NULL,
    lon_max double precision NOT NULL, lat_max double precision NOT NULL,
    repare boolean NOT NULL,
    batch_id bigint NOT NULL,
    line_no int NOT NULL
);
COMMENT ON TABLE core.qpv_perimetre IS 'The perimeter of each 2024 QPV (ANCT), WGS84 longitude/latitude, as GeoJSON text: geometrie as delivered (repaired by make_valid when it was invalid: repare), geometrie_simplifiee for maps (about 15 m of tolerance, coordinates to about a metre), and its bounding box. The latest delivery replaces the previous one.';
COMMENT ON COLUMN core.qpv_perimetre.repare IS 'The delivered geometry was invalid (a self-intersecting ring...) and was repaired by shapely''s make_valid; the repair is recorded as a warning of the batch''s rows gate.';
