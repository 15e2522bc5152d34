"""interpret() against real PostgreSQL databases of two invented domains (and a look at the demo):
each Reading's SQL is run and compared with SQL truth written by hand; each refusal is checked."""

import time

import pytest

from skills.answers.interpreter import say
from skills.answers.model import Lexicon, Reading, Refusal
from tests.fixtures.answer_databases import Database


@pytest.mark.parametrize(
    ("question", "truth"),
    [
        ("How many patients are there?", "SELECT count(*) FROM patients"),
        ("How many appointments were missed?", "SELECT count(*) FROM appointments WHERE status = 'missed'"),
        # "booked" is a stored value and, by its stem, the lexicon's "booking" for the table: the value wins
        ("How many appointments were booked?", "SELECT count(*) FROM appointments WHERE status = 'booked'"),
        ("How many appointments are not attended?", "SELECT count(*) FROM appointments WHERE status <> 'attended'"),
        (
            "How many no-show visits this year?",
            (
                "SELECT count(*) FROM appointments WHERE status = 'missed' AND scheduled_for >= '2026-01-01'"
                " AND scheduled_for < '2027-01-01'"
            ),
        ),
        (
            "How many appointments in 2025?",
            "SELECT count(*) FROM appointments WHERE scheduled_for BETWEEN '2025-01-01' AND '2025-12-31'",
        ),
        ("How many appointments before March?", "SELECT count(*) FROM appointments WHERE scheduled_for < '2026-03-01'"),
        (
            "How many cardiology appointments were missed?",
            (
                "SELECT count(*) FROM appointments a JOIN doctors d ON d.id = a.doctor_id"
                " WHERE d.specialty = 'cardiology' AND a.status = 'missed'"
            ),
        ),
        ("How many appointments with a fee of at least R1,000?", "SELECT count(*) FROM appointments WHERE fee >= 1000"),
        (
            "How many appointments with a fee between 500 and 600?",
            "SELECT count(*) FROM appointments WHERE fee BETWEEN 500 AND 600",
        ),
        (
            "How many patients with insurer Discovery or Bonitas?",
            "SELECT count(*) FROM patients WHERE insurer IN ('Discovery', 'Bonitas')",
        ),
    ],
)
def test_counts_match_sql_truth(clinic, question, truth):
    reading, rows = clinic.answer(question)
    assert reading.shape == "count"
    assert rows == clinic.rows(truth)


@pytest.mark.parametrize(
    ("question", "truth"),
    [
        ("What is the average fee of appointments?", "SELECT round(avg(fee), 2) FROM appointments"),
        ("What is the average doctor rating?", "SELECT round(avg(rating), 2) FROM doctors"),
        (
            "What is the total fee of attended appointments?",
            "SELECT sum(fee) FROM appointments WHERE status = 'attended'",
        ),
        (
            "What is the maximum fee of missed appointments?",
            "SELECT max(fee) FROM appointments WHERE status = 'missed'",
        ),
    ],
)
def test_aggregates_match_sql_truth(clinic, question, truth):
    reading, rows = clinic.answer(question)
    assert reading.shape == "aggregate"
    assert rows == clinic.rows(truth)


def test_a_list_filtered_on_a_place_names_its_rows(clinic):
    reading, rows = clinic.answer("List doctors in Durban")
    assert [r[0] for r in rows] == [
        r[0] for r in clinic.rows("SELECT full_name FROM doctors WHERE city = 'Durban' ORDER BY 1")
    ]
    assert say(reading, ["full_name"], rows, False).startswith("2 doctors")


def test_superlatives_and_top_n(clinic):
    _, rows = clinic.answer("Who is the most experienced doctor?")
    assert [r[0] for r in rows] == ["Grace Adams"]
    _, rows = clinic.answer("the 3 most expensive appointments")
    truth = clinic.rows("SELECT fee FROM appointments ORDER BY fee DESC FETCH FIRST 3 ROWS WITH TIES")
    assert [r[-1] for r in rows] == [r[0] for r in truth]


def test_which_x_has_the_most_y_counts_each_x_and_keeps_ties(clinic):
    _reading, rows = clinic.answer("Which doctor has the most appointments?")
    truth = clinic.rows(
        "SELECT d.full_name, count(a.id) FROM doctors d LEFT JOIN appointments a ON a.doctor_id = d.id"
        " GROUP BY d.id ORDER BY 2 DESC FETCH FIRST 1 ROWS WITH TIES"
    )
    assert sorted(rows) == sorted(truth)


def test_per_x_gives_every_x_with_its_count_zeros_included(clinic):
    _, rows = clinic.answer("How many missed appointments per doctor?")
    truth = clinic.rows(
        "SELECT d.full_name, count(a.id) FROM doctors d LEFT JOIN appointments a ON a.doctor_id = d.id"
        " AND a.status = 'missed' GROUP BY d.id ORDER BY 1"
    )
    assert rows == truth and len(rows) == 6
    _, rows = clinic.answer("How many appointments per status?")
    assert rows == clinic.rows("SELECT status, count(*) FROM appointments GROUP BY 1 ORDER BY 1")
    _, rows = clinic.answer("total fee of all appointments per doctor")  # "all": cancelled ones too
    assert rows == clinic.rows(
        "SELECT d.full_name, coalesce(sum(a.fee), 0) FROM doctors d LEFT JOIN appointments a ON a.doctor_id = d.id"
        " GROUP BY d.id ORDER BY 1"
    )


def test_a_named_record_by_part_of_its_name_and_one_of_its_fields(clinic):
    reading, rows = clinic.answer("Tell me about Ayesha")
    assert reading.shape == "record" and rows[0][1] == "Ayesha Patel"
    reading, rows = clinic.answer("What is the specialty of Naledi Mokoena?")
    assert reading.shape == "value" and rows == [("Naledi Mokoena", "cardiology")]
    assert "specialty: cardiology" in say(reading, ["full_name", "specialty"], rows, False)


def test_one_nested_condition(clinic):
    _, rows = clinic.answer("appointments of the doctor with the highest rating")
    truth = clinic.rows(
        "SELECT a.id FROM appointments a WHERE a.doctor_id = (SELECT id FROM doctors ORDER BY rating DESC NULLS LAST"
        " LIMIT 1) ORDER BY 1"
    )
    assert rows == truth


def test_yes_no_questions_answer_yes_or_no_first(clinic):
    reading, rows = clinic.answer("Is Naledi Mokoena in Durban?")
    assert reading.shape == "yes_no" and say(reading, ["count"], rows, False).startswith("Yes")
    reading, rows = clinic.answer("Is Thabo Nkosi in Pretoria?")
    assert say(reading, ["count"], rows, False).startswith("No")


def test_change_requests_are_refused_as_read_only_but_value_words_are_not(clinic):
    for question in (
        "Delete all patients",
        "Set Naledi Mokoena to inactive",
        "Please cancel the missed appointments",
        "drop table doctors",
        "Mark P-0001 as inactive",
        "Update the fee of appointments",
    ):
        refusal = clinic.read(question)
        assert isinstance(refusal, Refusal) and refusal.code == "read_only", question
    assert isinstance(clinic.read("How many cancelled appointments?"), Reading)


def test_unknown_words_need_the_model_and_are_named(clinic):
    refusal = clinic.read("What is the weather like in Durban?")
    assert refusal.code == "model_required" and refusal.words == ("weather",)


def test_two_equally_short_joins_that_differ_are_ambiguous(clinic, freight):
    refusal = clinic.read("appointments in Durban")  # the patient's city or the doctor's
    assert refusal.code == "ambiguous" and len(refusal.options) == 2
    refusal = freight.read("shipments from Durban Harbour Depot")  # origin or destination
    assert refusal.code == "ambiguous" and any("origin_id" in o for o in refusal.options)


def test_a_code_the_data_does_not_hold_is_not_found(clinic, freight):
    assert clinic.read("Show P-9999").code == "not_found"
    refusal = freight.read("What is the state of SH-2025-9999?")
    assert refusal.code == "not_found" and refusal.words == ("sh-2025-9999",)


def test_a_condition_through_a_one_to_many_join_is_not_guessed(clinic):
    # no doctor is in George; some patients are: the interpreter must not answer about the patients
    result = clinic.read("Are any doctors in George?")
    assert isinstance(result, Refusal)


# --- the second domain, shaped like the original system's tables -----------------------------


@pytest.mark.parametrize(
    ("question", "truth"),
    [
        ("How many active carriers are there?", "SELECT count(*) FROM carriers WHERE is_active"),
        ("How many carriers are not active?", "SELECT count(*) FROM carriers WHERE NOT is_active"),
        ("How many inactive carriers?", "SELECT count(*) FROM carriers WHERE NOT is_active"),
        ("How many carriers are not inactive?", "SELECT count(*) FROM carriers WHERE is_active"),
        ("How many consignments are on the way?", "SELECT count(*) FROM shipments WHERE state = 'in_transit'"),
        ("How many shipments not in transit?", "SELECT count(*) FROM shipments WHERE state <> 'in_transit'"),
        ("How many shipments cost over R100k?", "SELECT count(*) FROM shipments WHERE cost > 100000"),
        # ("delivered shipments", "not delivered" are two readings here, the state or the delivery date:
        # test_interpreter_english.py)
        ("What is the total cost of lost shipments?", "SELECT sum(cost) FROM shipments WHERE state = 'lost'"),
        (
            "How many shipments shipped in 2025?",
            "SELECT count(*) FROM shipments WHERE shipped_on >= '2025-01-01' AND shipped_on < '2026-01-01'",
        ),
        (
            "How many lost shipments by Karoo Haulage?",
            (
                "SELECT count(*) FROM shipments s JOIN carriers c USING (carrier_id)"
                " WHERE c.company_name = 'Karoo Haulage' AND s.state = 'lost'"
            ),
        ),
        ("How many carriers in Botswana?", "SELECT count(*) FROM carriers WHERE country = 'Botswana'"),
    ],
)
def test_the_second_domain_counts_and_totals_match_sql_truth(freight, question, truth):
    _, rows = freight.answer(question)
    assert rows == freight.rows(truth)


def test_the_second_domain_records_superlatives_and_groups(freight):
    reading, rows = freight.answer("What is the fleet size of Karoo?")
    assert rows == [("Karoo Haulage", 42)]
    _, rows = freight.answer("Which contract has the biggest contract value?")
    assert [r[0] for r in rows] == ["Solar Panel Rollout"]
    _, rows = freight.answer("Which carrier has the most shipments?")
    assert sorted(rows) == sorted(
        freight.rows(
            "SELECT c.company_name, count(s.shipment_id) FROM carriers c LEFT JOIN shipments s USING (carrier_id)"
            " GROUP BY c.carrier_id ORDER BY 2 DESC FETCH FIRST 1 ROWS WITH TIES"
        )
    )
    reading, rows = freight.answer("Is Skeleton Coast Movers active?")
    assert say(reading, ["count"], rows, False).startswith("No")


def test_the_clinic_lexicon_does_not_help_the_second_domain(freight):
    assert freight.read("How many no-show visits?").code == "model_required"


def test_values_are_parameters_and_identifiers_are_quoted(freight):
    reading = freight.read("What is the fleet size of Karoo Haulage?")
    assert "Karoo" not in reading.sql and reading.params == ("Karoo Haulage",)
    assert '"carriers"' in reading.sql


def test_one_interpretation_takes_well_under_20_ms(clinic, freight):
    questions = [
        "How many appointments were missed?",
        "Which doctor has the most appointments?",
        "What is the average fee of appointments?",
        "appointments of the doctor with the highest rating",
    ]
    clinic.read(questions[0])  # the vocabulary is built once per schema and lexicon
    started = time.perf_counter()
    for _ in range(10):
        for question in questions:
            clinic.read(question)
    per_question = (time.perf_counter() - started) / 40 * 1000
    assert per_question < 20, per_question


# --- the demo database, a handful only (nothing is tuned to it) ----------------------------------


@pytest.fixture(scope="module")
def demo(pg_url):
    database = Database(pg_url, Lexicon(tables={"purchase_orders": ("PO", "POs", "purchase order")}))
    yield database
    database.connection.close()


def test_the_demo_database_reads_too(demo):
    _, rows = demo.answer("How many purchase orders over R100,000 are still in draft?")
    assert rows == demo.rows("SELECT count(*) FROM purchase_orders WHERE total > 100000 AND status = 'draft'")
    _, rows = demo.answer("What is the status of PO-2026-00125?")
    assert rows == demo.rows("SELECT po_number, status FROM purchase_orders WHERE po_number = 'PO-2026-00125'")
    _, rows = demo.answer("How many business installations are still scheduled?")
    assert rows == demo.rows(
        "SELECT count(*) FROM installations WHERE install_type = 'business' AND status = 'scheduled'"
    )
    _, rows = demo.answer("Which project has the most blocked sites?")
    assert sorted(r[-2:] for r in rows) == sorted(
        demo.rows(
            "SELECT p.name, count(s.id) FROM projects p LEFT JOIN sites s ON s.project_id = p.id AND s.status = 'blocked'"
            " GROUP BY p.id ORDER BY 2 DESC FETCH FIRST 1 ROWS WITH TIES"
        )
    )
    assert demo.read("Delete all contractors").code == "read_only"


def test_top_n_by_a_column_orders_and_does_not_group(clinic):
    _, rows = clinic.answer("top 2 doctors by rating")
    assert [r[0] for r in rows] == ["Naledi Mokoena", "Ayesha Patel"]


def test_an_average_per_x_is_the_average_not_zero_for_none(clinic):
    reading, rows = clinic.answer("average fee per doctor")
    assert "average fee" in reading.interpretation
    assert rows == clinic.rows(
        "SELECT d.full_name, round(avg(a.fee), 2) FROM doctors d LEFT JOIN appointments a ON a.doctor_id = d.id"
        " GROUP BY d.id ORDER BY 1"
    )


def test_a_yes_no_question_about_a_field_is_not_answered_by_the_row_existing(clinic):
    assert isinstance(clinic.read("Does Grace Adams have a rating?"), Refusal)


def test_a_superlative_on_a_table_with_several_measures_asks_which(clinic):
    assert isinstance(clinic.read("Who is the biggest doctor?"), Refusal)
