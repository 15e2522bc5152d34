-- FibreFlow demo database: a South African fibre-to-the-home (FTTH) network builder.
--
-- Loaded by `bin/demo_database start|load` (skills/demo/database.py) into an empty `public`
-- schema; the rows come from registry/demo/seed.yaml through a fixed-seed generator
-- (skills/demo/data.py). Edit freely: the agents read the catalogue, not a copy of it.
-- Money is in South African rand (ZAR).

CREATE TABLE contractors (
    id              serial PRIMARY KEY,
    name            text NOT NULL UNIQUE,
    kind            text NOT NULL CHECK (kind IN ('contractor', 'subcontractor', 'vendor', 'supplier')),
    specialty       text NOT NULL,           -- trenching, aerial, splicing, installation, civils, cable supply...
    status          text NOT NULL CHECK (status IN ('active', 'inactive', 'suspended')),
    province        text NOT NULL,
    city            text NOT NULL,
    contact_person  text NOT NULL,
    phone           text NOT NULL,
    email           text NOT NULL,
    crew_count      integer NOT NULL DEFAULT 0 CHECK (crew_count >= 0),
    rating          numeric(2, 1) CHECK (rating BETWEEN 1 AND 5),
    bbbee_level     integer CHECK (bbbee_level BETWEEN 1 AND 8),  -- NULL: not B-BBEE compliant
    onboarded_on    date NOT NULL
);

CREATE TABLE projects (
    id                    serial PRIMARY KEY,
    code                  text NOT NULL UNIQUE,    -- FF-<province>-<nnn>
    name                  text NOT NULL,
    province              text NOT NULL,
    city                  text NOT NULL,
    area                  text NOT NULL,           -- suburb or township, e.g. Soweto, Khayelitsha
    status                text NOT NULL CHECK (status IN ('planning', 'active', 'on_hold', 'completed')),
    project_manager       text NOT NULL,
    start_date            date NOT NULL,
    planned_end           date NOT NULL,
    forecast_end          date,                    -- current estimate while not completed
    actual_end            date,                    -- set when completed
    budget                numeric(14, 2) NOT NULL,
    spend                 numeric(14, 2) NOT NULL DEFAULT 0,
    homes_passed_target   integer NOT NULL,
    homes_passed          integer NOT NULL DEFAULT 0,  -- sum of sites.homes_passed
    homes_connected       integer NOT NULL DEFAULT 0   -- completed installations
);

CREATE TABLE sites (
    id             serial PRIMARY KEY,
    project_id     integer NOT NULL REFERENCES projects(id),
    code           text NOT NULL UNIQUE,
    name           text NOT NULL,
    site_type      text NOT NULL,                  -- street cabinet, pole route, trench section, MDU
    status         text NOT NULL CHECK (status IN ('planned', 'in_progress', 'completed', 'blocked')),
    planned_start  date NOT NULL,
    planned_end    date NOT NULL,
    actual_end     date,
    homes_planned  integer NOT NULL,
    homes_passed   integer NOT NULL DEFAULT 0,
    delayed        boolean NOT NULL DEFAULT false, -- behind schedule
    delay_days     integer NOT NULL DEFAULT 0,
    delay_reason   text
);
CREATE INDEX sites_project_id ON sites(project_id);

CREATE TABLE project_contractors (
    project_id      integer NOT NULL REFERENCES projects(id),
    contractor_id   integer NOT NULL REFERENCES contractors(id),
    role            text NOT NULL,                 -- trenching, aerial, splicing, installation, civils, supply
    contract_value  numeric(14, 2) NOT NULL,
    start_date      date NOT NULL,
    PRIMARY KEY (project_id, contractor_id, role)
);

CREATE TABLE installations (
    id             serial PRIMARY KEY,
    site_id        integer NOT NULL REFERENCES sites(id),
    contractor_id  integer NOT NULL REFERENCES contractors(id),
    address        text NOT NULL,
    install_type   text NOT NULL CHECK (install_type IN ('residential', 'business', 'mdu')),
    status         text NOT NULL CHECK (status IN ('scheduled', 'completed', 'failed')),
    scheduled_on   date NOT NULL,
    installed_on   date                            -- set when completed
);
CREATE INDEX installations_site_id ON installations(site_id);

CREATE TABLE materials (
    id             serial PRIMARY KEY,
    sku            text NOT NULL UNIQUE,
    name           text NOT NULL,
    category       text NOT NULL,                  -- cable, duct, closure, ont, pole, connector, cabinet
    unit           text NOT NULL,                  -- m, each, drum, km
    unit_cost      numeric(12, 2) NOT NULL,
    supplier_id    integer REFERENCES contractors(id),
    reorder_level  integer NOT NULL
);

CREATE TABLE stock_movements (
    id             serial PRIMARY KEY,
    material_id    integer NOT NULL REFERENCES materials(id),
    warehouse      text NOT NULL,                  -- Johannesburg DC, Durban DC, Cape Town DC, Polokwane Yard
    project_id     integer REFERENCES projects(id),-- NULL for receipts into stock
    movement_type  text NOT NULL CHECK (movement_type IN ('receipt', 'issue', 'return', 'adjustment')),
    quantity       numeric(12, 2) NOT NULL,        -- positive into the warehouse, negative out of it
    moved_on       date NOT NULL,
    reference      text                            -- PO number or site code
);
CREATE INDEX stock_movements_material_id ON stock_movements(material_id);

CREATE TABLE boq_items (
    id           serial PRIMARY KEY,
    project_id   integer NOT NULL REFERENCES projects(id),
    item_code    text NOT NULL,
    description  text NOT NULL,
    category     text NOT NULL,                    -- civils, aerial, cable, splicing, installation, equipment
    unit         text NOT NULL,
    quantity     numeric(12, 2) NOT NULL,
    rate         numeric(12, 2) NOT NULL,
    amount       numeric(14, 2) GENERATED ALWAYS AS (round(quantity * rate, 2)) STORED,
    UNIQUE (project_id, item_code)
);

CREATE TABLE rfqs (
    id           serial PRIMARY KEY,
    rfq_number   text NOT NULL UNIQUE,             -- RFQ-<year>-<nnnn>
    project_id   integer NOT NULL REFERENCES projects(id),
    supplier_id  integer NOT NULL REFERENCES contractors(id),
    title        text NOT NULL,
    status       text NOT NULL CHECK (status IN ('open', 'awarded', 'closed')),
    value        numeric(14, 2) NOT NULL,
    issued_on    date NOT NULL,
    closing_on   date NOT NULL,
    awarded_on   date
);

CREATE TABLE purchase_orders (
    id           serial PRIMARY KEY,
    po_number    text NOT NULL UNIQUE,             -- PO-<year>-<nnnnn>
    project_id   integer NOT NULL REFERENCES projects(id),
    supplier_id  integer NOT NULL REFERENCES contractors(id),
    rfq_id       integer REFERENCES rfqs(id),
    status       text NOT NULL CHECK (status IN ('draft', 'issued', 'delivered', 'invoiced', 'cancelled')),
    total        numeric(14, 2) NOT NULL,
    ordered_on   date NOT NULL,
    expected_on  date NOT NULL,
    delivered_on date
);
