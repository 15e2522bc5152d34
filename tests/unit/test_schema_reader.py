"""read_schema against real PostgreSQL databases: what the catalog and bounded reads say about a schema."""

import psycopg2
import pytest

from skills.answers import schema as schema_reader
from skills.answers.model import ForeignKey, Schema
from skills.answers.schema import check_values, read_schema


def _read(url: str, tables: list[str] | None = None) -> Schema:
    connection = psycopg2.connect(url, connect_timeout=5)
    try:
        connection.set_session(readonly=True)
        with connection.cursor() as cursor:
            return read_schema(cursor, tables)
    finally:
        connection.close()


@pytest.fixture(scope="module")
def clinic(clinic_db) -> Schema:
    return _read(clinic_db.url)


def test_reads_every_table_with_columns_types_nullability_and_comments(clinic):
    assert [t.name for t in clinic.tables] == ["appointments", "doctors", "patients"]
    doctors = clinic.table("doctors")
    assert doctors.comment == "Doctors who see patients"
    assert [c.name for c in doctors.columns][:3] == ["id", "full_name", "specialty"]
    assert doctors.column("rating").type == "numeric(2,1)"
    assert doctors.column("rating").nullable and not doctors.column("full_name").nullable
    assert doctors.column("rating").comment == "Average patient rating, 1 to 5"
    assert doctors.column("hired_on").type == "date"


def test_reads_primary_and_foreign_keys(clinic):
    appointments = clinic.table("appointments")
    assert appointments.primary_key == ("id",)
    assert set(appointments.foreign_keys) == {
        ForeignKey(("patient_id",), "patients", ("id",)),
        ForeignKey(("doctor_id",), "doctors", ("id",)),
    }


def test_check_lists_become_the_columns_values(clinic):
    assert clinic.table("appointments").column("status").values == ("booked", "attended", "missed", "cancelled")
    assert clinic.table("doctors").column("specialty").values[-1] == "general practice"


def test_low_cardinality_text_lists_its_distinct_values_and_free_text_does_not(clinic):
    assert clinic.table("patients").column("insurer").values == ("Bonitas", "Discovery", "Momentum")
    assert clinic.table("patients").column("city").values == ("Durban", "George", "Kimberley", "Polokwane", "Pretoria")
    assert clinic.table("appointments").column("reason").values == ()  # 55 distinct complaints: free text


def test_key_text_columns_hold_the_names_of_their_rows(clinic):
    patients = clinic.table("patients")
    assert patients.column("patient_number").is_name and patients.column("full_name").is_name
    assert len(patients.names["patient_number"]) == 60 and "P-0007" in patients.names["patient_number"]
    assert "Naledi Mokoena" in clinic.table("doctors").names["full_name"]
    assert not patients.column("city").is_name


def test_tables_narrows_the_schema_and_drops_keys_to_tables_left_out(freight_db):
    schema = _read(freight_db.url, ["shipments", "carriers"])
    assert [t.name for t in schema.tables] == ["carriers", "shipments"]
    assert schema.table("shipments").foreign_keys == (ForeignKey(("carrier_id",), "carriers", ("carrier_id",)),)


def test_an_array_form_check_and_two_keys_to_one_table(freight_db):
    schema = _read(freight_db.url)
    assert schema.table("carriers").column("country").values == ("South Africa", "Namibia", "Botswana")
    targets = [k.ref_table for k in schema.table("shipments").foreign_keys]
    assert sorted(targets) == ["carriers", "warehouses", "warehouses"]
    assert schema.table("contracts").names["project_name"][0] == "Copper Belt Run"
    assert schema.table("carriers").column("is_active").type == "boolean"


def test_bounded_reads_look_at_no_more_rows_than_the_bound(clinic_db, monkeypatch):
    # with the bound at 10 rows, a column's values come from the first 10 rows only: a LIMIT, not a scan
    monkeypatch.setattr(schema_reader, "ROW_BOUND", 10)
    monkeypatch.setattr(schema_reader, "MAX_NAMES", 5)
    schema = _read(clinic_db.url, ["appointments", "patients"])
    assert len(schema.table("appointments").column("reason").values) == 10
    assert len(schema.table("patients").names["patient_number"]) == 5


def test_the_schema_survives_json(clinic):
    assert Schema.from_json(clinic.to_json()) == clinic


@pytest.mark.parametrize(
    ("definition", "values"),
    [
        ("CHECK ((kind = ANY (ARRAY['a'::text, 'it''s'::text])))", ("a", "it's")),
        ("CHECK (((s)::text = ANY ((ARRAY['x'::character varying, 'y'::character varying])::text[])))", ("x", "y")),
        ("CHECK (s IN ('p', 'q'))", ("p", "q")),
        ("CHECK ((rating >= (1)::numeric) AND (rating <= (5)::numeric))", ()),
        ("CHECK ((a = 'x'::text) OR (b = 'y'::text))", ()),
        ("CHECK ((a || b) = ANY (ARRAY['x'::text]))", ()),
    ],
)
def test_only_a_one_column_value_list_check_gives_values(definition, values):
    assert check_values(definition) == values


def test_reads_the_demo_database_through_its_read_only_role(pg_url):
    schema = _read(pg_url)
    orders = schema.table("purchase_orders")
    assert orders.column("status").values == ("draft", "issued", "delivered", "invoiced", "cancelled")
    assert ForeignKey(("project_id",), "projects", ("id",)) in orders.foreign_keys
    assert orders.column("po_number").is_name and len(orders.names["po_number"]) > 10
