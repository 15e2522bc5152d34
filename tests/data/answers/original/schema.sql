-- A second database of another shape, after the original FibreFlow system's Neon tables
-- (contractors.company_name and is_active, projects.project_name and description), for judging
-- an interpreter on a schema it was not written for. Load into an empty database:
--   psql "$URL" -v ON_ERROR_STOP=1 -f schema.sql -f seed.sql
-- Money is in South African rand (ZAR). Dates in seed.sql are relative to CURRENT_DATE at load time.

CREATE TABLE contractors (
    id                  serial PRIMARY KEY,
    company_name        text NOT NULL UNIQUE,
    registration_number text NOT NULL UNIQUE,   -- CIPC number, e.g. 2016/123456/07
    contractor_type     text NOT NULL CHECK (contractor_type IN ('civils', 'pole_erection', 'splicing', 'drop_install', 'general')),
    contact_name        text NOT NULL,
    contact_phone       text NOT NULL,
    email               text NOT NULL,
    town                text NOT NULL,
    region              text NOT NULL,          -- province
    is_active           boolean NOT NULL DEFAULT true,
    bee_level           integer CHECK (bee_level BETWEEN 1 AND 8),
    safety_rating       numeric(3, 1) CHECK (safety_rating BETWEEN 0 AND 10),
    date_registered     date NOT NULL
);
COMMENT ON COLUMN contractors.is_active IS 'false once a contractor is no longer used on any build';
COMMENT ON COLUMN contractors.bee_level IS 'B-BBEE contributor level, 1 (best) to 8; NULL when not certified';
COMMENT ON COLUMN contractors.safety_rating IS 'latest site safety audit score out of 10';

CREATE TABLE projects (
    id              serial PRIMARY KEY,
    project_name    text NOT NULL UNIQUE,
    project_code    text NOT NULL UNIQUE,       -- three letters, e.g. LAW for Lawley
    description     text NOT NULL,
    client_name     text NOT NULL,              -- the network operator paying for the build
    town            text NOT NULL,
    region          text NOT NULL,
    project_status  text NOT NULL CHECK (project_status IN ('not_started', 'in_progress', 'paused', 'complete')),
    manager_name    text NOT NULL,
    start_date      date NOT NULL,
    target_date     date NOT NULL,
    completed_date  date,
    budget_zar      numeric(14, 2) NOT NULL,
    poles_planned   integer NOT NULL,
    drops_planned   integer NOT NULL
);
COMMENT ON COLUMN projects.budget_zar IS 'approved build budget in rand, excluding VAT';
COMMENT ON COLUMN projects.target_date IS 'date the client expects the build to be handed over';

CREATE TABLE staff (
    id             serial PRIMARY KEY,
    full_name      text NOT NULL,
    job_role       text NOT NULL CHECK (job_role IN ('field_technician', 'team_lead', 'planner', 'qa_inspector')),
    contractor_id  integer REFERENCES contractors(id),   -- NULL: employed by FibreFlow itself
    phone          text NOT NULL,
    is_active      boolean NOT NULL DEFAULT true,
    hired_on       date NOT NULL
);

CREATE TABLE poles (
    id             serial PRIMARY KEY,
    pole_number    text NOT NULL UNIQUE,        -- <project_code>.P.<nnnn>
    project_id     integer NOT NULL REFERENCES projects(id),
    contractor_id  integer REFERENCES contractors(id),   -- who erected it; NULL while planned
    pole_type      text NOT NULL CHECK (pole_type IN ('wooden', 'steel', 'composite')),
    height_m       numeric(3, 1) NOT NULL,
    pole_status    text NOT NULL CHECK (pole_status IN ('planned', 'erected', 'rejected')),
    erected_on     date,
    gps_lat        numeric(9, 6) NOT NULL,
    gps_lon        numeric(9, 6) NOT NULL
);
COMMENT ON COLUMN poles.pole_status IS 'rejected: failed the quality inspection and must be replaced';

CREATE TABLE drops (
    id              serial PRIMARY KEY,
    drop_number     text NOT NULL UNIQUE,       -- DR-<project_code>-<nnnn>
    pole_id         integer NOT NULL REFERENCES poles(id),
    technician_id   integer REFERENCES staff(id),
    address         text NOT NULL,
    premises_type   text NOT NULL CHECK (premises_type IN ('house', 'business', 'complex')),
    drop_status     text NOT NULL CHECK (drop_status IN ('pending', 'connected', 'faulty', 'cancelled')),
    cable_length_m  numeric(6, 1) NOT NULL,
    connected_on    date
);
COMMENT ON COLUMN drops.cable_length_m IS 'length of drop cable from the pole to the premises, in metres';

CREATE TABLE invoices (
    id              serial PRIMARY KEY,
    invoice_number  text NOT NULL UNIQUE,       -- INV-<nnnnn>
    contractor_id   integer NOT NULL REFERENCES contractors(id),
    project_id      integer NOT NULL REFERENCES projects(id),
    amount_zar      numeric(12, 2) NOT NULL CHECK (amount_zar > 0),
    invoice_status  text NOT NULL CHECK (invoice_status IN ('submitted', 'approved', 'paid', 'disputed')),
    submitted_on    date NOT NULL,
    paid_on         date
);
