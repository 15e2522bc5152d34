"""The everyday English the interpreter reads without any lexicon entry, each rule against the two invented
domains of test_interpreter.py (real PostgreSQL; truth written by hand in SQL): phrases that say nothing,
misspellings, units, numbers before their column, top N before the noun, counts per a field, superlatives
of time, "how tall is the tallest", the values of one column, participles of date columns, and the
readings that must not be made (two names for one field, a total with a superlative)."""

import pytest

from skills.answers.interpreter import interpret
from skills.answers.model import Column, ForeignKey, Lexicon, Reading, Refusal, Schema, Table
from skills.answers.scanning import change_request
from skills.answers.words import stem, tokenize
from tests.fixtures.answer_databases import CLINIC_LEXICON, TODAY, Database


def same(database: Database, question: str, truth: str) -> Reading:
    reading, rows = database.answer(question)
    assert sorted(map(repr, rows)) == sorted(map(repr, database.rows(truth))), (question, reading)
    return reading


@pytest.mark.parametrize(
    ("question", "truth"),
    [
        ("How many patients are there in total?", "SELECT count(*) FROM patients"),
        (
            "How many appointments are missed at the moment?",
            "SELECT count(*) FROM appointments WHERE status = 'missed'",
        ),
        ("What is the total number of doctors?", "SELECT count(*) FROM doctors"),
        ("Pull up the cardiology doctors", "SELECT full_name FROM doctors WHERE specialty = 'cardiology'"),
        # one letter swapped or missing in a long word is still the word
        ("How many appointmnets were missed?", "SELECT count(*) FROM appointments WHERE status = 'missed'"),
        ("How many apointments were missed?", "SELECT count(*) FROM appointments WHERE status = 'missed'"),
    ],
)
def test_words_that_say_nothing_and_misspelt_long_words(clinic, question, truth):
    same(clinic, question, truth)


def test_a_short_word_is_not_corrected_into_another(clinic):
    refusal = clinic.read("How many appts were missed?")
    assert isinstance(refusal, Refusal) and refusal.code == "model_required" and "appts" in refusal.words


def test_a_unit_after_a_number_names_the_column_measured_in_it(freight):
    same(freight, "How many shipments over 500 kg?", "SELECT count(*) FROM shipments WHERE weight_kg > 500")
    # rand picks the money column, kg the weight: the same table, two different comparisons
    same(freight, "How many shipments over R5,000?", "SELECT count(*) FROM shipments WHERE cost > 5000")


def test_a_number_followed_by_its_column_compares_that_column(freight):
    same(freight, "How many carriers have more than 20 trucks?", "SELECT count(*) FROM carriers WHERE fleet_size > 20")


def test_a_number_before_the_noun_is_the_top_n_of_a_later_superlative(freight):
    reading = same(
        freight,
        "Which 2 carriers have the most trucks?",
        "SELECT company_name, fleet_size FROM carriers ORDER BY fleet_size DESC LIMIT 2",
    )
    assert "top 2" in reading.interpretation


def test_which_field_has_the_most_rows_counts_the_rows_per_value_and_keeps_ties(freight):
    reading = same(
        freight,
        "Which country has the most carriers?",
        "SELECT country, count(*) FROM carriers GROUP BY country ORDER BY 2 DESC FETCH FIRST 1 ROWS WITH TIES",
    )
    assert len(freight.rows(reading.sql, reading.params)) == 2  # South Africa and Botswana, two each


def test_superlatives_of_time_order_by_the_one_date(clinic, freight):
    same(clinic, "Who is the newest doctor?", "SELECT full_name, hired_on FROM doctors ORDER BY hired_on DESC LIMIT 1")
    same(
        freight,
        "What is the oldest contract?",
        "SELECT project_name, signed_on FROM contracts ORDER BY signed_on LIMIT 1",
    )
    # shipments have two dates: "latest" alone does not say which
    assert isinstance(freight.read("the latest shipment"), Refusal)


def test_how_tall_is_the_tallest_asks_for_the_measure(clinic):
    reading = same(
        clinic, "How experienced is the most experienced doctor?", "SELECT max(years_experience) FROM doctors"
    )
    assert reading.shape == "aggregate"


def test_a_question_about_a_column_alone_gets_its_different_values(clinic):
    reading = same(
        clinic, "Which insurers do we have?", "SELECT DISTINCT insurer FROM patients WHERE insurer IS NOT NULL"
    )
    assert reading.shape == "values"
    same(clinic, "How many insurers are there?", "SELECT count(DISTINCT insurer) FROM patients")
    same(
        clinic,
        "Which cities are the cardiology doctors in?",
        "SELECT DISTINCT city FROM doctors WHERE specialty = 'cardiology'",
    )
    # the singular asks for one row's field, not the values
    assert clinic.read("What is the rating of the cardiology doctor?").shape != "values"


def test_a_past_participle_of_a_date_column_means_the_event_happened_by_today(freight):
    today = TODAY.isoformat()
    same(
        freight,
        "How many shipments have been shipped?",
        f"SELECT count(*) FROM shipments WHERE shipped_on <= '{today}'",
    )
    reading = freight.read("Has the Copper Belt Run contract been signed?")
    assert reading.shape == "yes_no" and reading.one
    (row,) = freight.rows(reading.sql, reading.params)
    assert "Copper Belt Run" in row and row[-1] is True
    # the word is also a stored state: two readings, which differ here (some deliveries are dated after
    # today), so the question is ambiguous; where they give the same rows, it is answered (test_data_agents)
    both = freight.read("How many shipments were delivered?")
    assert both.code == "ambiguous" and len(both.readings) == 2
    assert any("state is delivered" in option for option in both.options)
    assert any("delivered by today" in option for option in both.options)
    # "when" asks for the date itself
    when = freight.read("When was the Copper Belt Run contract signed?")
    assert isinstance(when, Reading) and "signed_on" in when.sql and "<" not in when.sql


def test_a_total_over_the_one_row_asked_about_is_that_rows_figure_named(freight):
    reading, rows = freight.answer("What is the total contract value of the Copper Belt Run contract?")
    assert reading.shape == "value" and reading.one
    assert rows == freight.rows(
        "SELECT project_name, contract_value FROM contracts WHERE project_name = 'Copper Belt Run'"
    )


def test_readings_that_cannot_be_one_query_are_not_made(clinic, freight):
    # two different names for one field would ask for no rows at all
    both = clinic.read("appointments of Naledi Mokoena and Ayesha Patel")
    assert isinstance(both, Refusal) and both.code == "model_required"
    # a total and a superlative at once: neither is dropped silently
    assert isinstance(clinic.read("What is the lowest total fee of appointments?"), Refusal)


def test_an_ambiguous_reading_carries_its_readings_to_be_compared(clinic):
    refusal = clinic.read("appointments in Durban")  # the patient's city or the doctor's
    assert refusal.code == "ambiguous" and len(refusal.readings) == 2
    assert all(isinstance(r, Reading) for r in refusal.readings)
    assert {r.interpretation for r in refusal.readings} == set(refusal.options)
    first, second = (sorted(clinic.rows(r.sql, r.params)) for r in refusal.readings)
    assert first != second  # different rows: the comparison in execution/data.py leaves it ambiguous


@pytest.mark.parametrize(
    ("text", "verb"),
    [
        ("Pause the Copper Belt Run contract", "pause"),
        ("Please increase the fee of appointment 3", "increase"),
        ("Raise a PO for R50k", "raise"),
        ("Start the Maize Harvest Lift contract", "start"),
        ("Start date of the Maize Harvest Lift contract", None),
        ("Complete list of carriers", None),
        ("Order the carriers by rating", None),
        ("Name the carriers in Botswana", None),
    ],
)
def test_change_verbs_and_the_nouns_spelt_like_them(text, verb):
    assert change_request(tokenize(text)) == verb


def test_a_table_named_like_its_own_rows_kind_is_two_readings():
    """A table whose rows hold its own name as a kind (carriers of kind "carrier") is ambiguous alone:
    all its rows, or those of that kind. (The demo's contractors are run in test_data_agents.py.)"""
    names = Column("company_name", "text", is_name=True)
    kinds = Table("carriers", (names, Column("kind", "text", values=("carrier", "broker"))), ("company_name",))
    schema = Schema((kinds,))
    refusal = interpret("How many carriers are there?", schema, Lexicon(), today=TODAY)
    assert isinstance(refusal, Refusal) and refusal.code == "ambiguous" and len(refusal.options) == 2
    brokers = interpret("How many brokers are there?", schema, Lexicon(), today=TODAY)
    assert isinstance(brokers, Reading) and '"kind" = %s' in brokers.sql and brokers.params == ("broker",)


def test_a_cached_schemas_vocabulary_is_kept_on_disk_and_read_back_alike(clinic, tmp_path):
    from dataclasses import replace

    from skills.answers import vocabulary as vocabularies

    schema = replace(clinic.schema, fingerprint="clinic-test")
    built = vocabularies.vocabulary(schema, CLINIC_LEXICON, str(tmp_path))
    (kept,) = tmp_path.glob("vocabulary-*.marshal")
    vocabularies._CACHE.clear()  # as a new process would start
    loaded = vocabularies.vocabulary(schema, CLINIC_LEXICON, str(tmp_path))
    assert loaded is not built and loaded.longest == built.longest
    for key in built.phrases:
        assert loaded.lookup(key) == built.lookup(key)
    assert sorted(loaded.single_words()) == sorted(built.single_words())
    question = "How many no-show visits this year?"
    assert interpret(question, schema, CLINIC_LEXICON, today=TODAY, vocabulary_dir=str(tmp_path)) == clinic.read(
        question
    )
    kept.write_bytes(b"cut short")  # a damaged file is built again, not an error
    vocabularies._CACHE.clear()
    again = vocabularies.vocabulary(schema, CLINIC_LEXICON, str(tmp_path))
    assert again.lookup(("visit",)) == built.lookup(("visit",))
    # another lexicon is another vocabulary, never the kept one
    vocabularies._CACHE.clear()
    other = vocabularies.vocabulary(schema, Lexicon(), str(tmp_path))
    assert other.lookup(("visit",)) == [] and len(list(tmp_path.glob("vocabulary-*.marshal"))) == 2


def test_a_comparison_with_another_column_of_the_row(clinic):
    same(
        clinic,
        "Which doctors have a rating lower than their experience?",
        "SELECT full_name FROM doctors WHERE rating < years_experience",
    )
    # with no column before it, the compared column must be the table's only other one of that type
    assert isinstance(clinic.read("Which doctors are over experience?"), Refusal)


def test_a_name_written_as_one_that_the_data_does_not_hold_is_not_found(clinic):
    refusal = clinic.read("What is the rating of the Zuma doctor?")
    assert refusal.code == "not_found" and refusal.words == ("zuma",) and "Zuma" in refusal.message
    assert clinic.read("What is the rating of the zuma doctor?").code == "model_required"  # a word, not a name
    assert clinic.read("What is the rating of the ZUMA doctor?").code == "model_required"  # capitals: an acronym


def test_the_er_form_of_a_lexicon_adjective_compares_its_column(clinic_db):
    pricey = Database(clinic_db.url, Lexicon(columns={"appointments.fee": ("pricey",)}))
    try:
        same(
            pricey,
            "How many appointments are pricier than R1,000?",
            "SELECT count(*) FROM appointments WHERE fee > 1000",
        )
        same(
            pricey,
            "the priciest appointment",
            "SELECT id, fee FROM appointments ORDER BY fee DESC FETCH FIRST 1 ROWS WITH TIES",
        )
    finally:
        pricey.connection.close()


def test_a_yes_no_question_about_one_row_is_answered_of_that_row_and_names_it(clinic, freight):
    """The words up to the row's name (or "the <table>") find it; the rest is asked of it."""
    from skills.answers.saying import say

    reading = freight.read("Is Skeleton Coast Movers active?")
    assert reading.shape == "yes_no" and reading.one
    rows = freight.rows(reading.sql, reading.params)
    assert rows == [("Skeleton Coast Movers", False)], rows
    assert say(reading, ["company_name", "answer"], rows, False).startswith("No: Skeleton Coast Movers")
    (row,) = freight.rows(*_sql(freight.read("Is Karoo Haulage active in South Africa?")))
    assert row[0] == "Karoo Haulage" and row[-1] is True
    # several rows fit "the Durban doctor": the reading says it speaks of one, the caller refuses
    several = clinic.read("Is the Durban doctor in cardiology?")
    assert several.one and len(clinic.rows(*_sql(several))) == 2
    assert clinic.rows(*_sql(clinic.read("Is the Kimberley doctor in cardiology?"))) == [("Sipho Dlamini", True)]
    # a plural or "any" question is still a count of the matching rows
    plural = freight.read("Are any carriers in Namibia active?")
    assert plural.shape == "yes_no" and not plural.one and freight.rows(plural.sql, plural.params) == [(0,)]


def _sql(reading: Reading) -> tuple:
    assert isinstance(reading, Reading), reading
    return reading.sql, reading.params


def test_a_total_over_rows_that_can_be_cancelled_is_two_readings_unless_the_question_says(clinic):
    """A stored value that says a row no longer counts ("cancelled"): a total that says nothing of it is
    of every row or of the rows still standing; "all" says every row, and a condition on it says which."""
    both = clinic.read("What is the total fee of the appointments?")
    assert both.code == "ambiguous" and len(both.readings) == 2, both
    assert any("cancelled left out" in option for option in both.options)
    assert any("cancelled included" in option for option in both.options)
    totals = {clinic.rows(r.sql, r.params)[0][0] for r in both.readings}
    assert totals == {
        clinic.rows("SELECT sum(fee) FROM appointments")[0][0],
        clinic.rows("SELECT sum(fee) FROM appointments WHERE status <> 'cancelled'")[0][0],
    }
    same(clinic, "What is the total fee of all appointments?", "SELECT sum(fee) FROM appointments")
    same(clinic, "total fee of the missed appointments", "SELECT sum(fee) FROM appointments WHERE status = 'missed'")
    per_doctor = clinic.read("total appointment fee per doctor")
    assert per_doctor.code == "ambiguous" and any("cancelled left out" in option for option in per_doctor.options)
    # a count is of every row, as asked
    same(clinic, "How many appointments are there?", "SELECT count(*) FROM appointments")


def test_a_name_guessed_from_plural_words_of_a_which_question_is_no_answer(freight):
    """ "Which road carriers do we have?" asks which ones; that "Highveld Road Carriers" holds the same
    words does not make that one company the answer. A guess in the singular still reads."""
    plural = freight.read("Which road carriers do we have?")
    assert plural.code == "model_required" and "road carriers" in plural.message
    named = freight.read("Which carrier is Skeleton Coast?")
    assert isinstance(named, Reading) and named.params == ("Skeleton Coast Movers",)


def test_of_two_tables_named_together_the_last_is_the_head(clinic):
    """ "doctor appointments" are appointments; "appointment doctors" are doctors, and a count of the
    appointments for it would be about another thing than asked."""
    same(clinic, "How many doctor appointments are there?", "SELECT count(*) FROM appointments")
    head = clinic.read("How many appointment doctors are there?")
    assert not (isinstance(head, Reading) and head.table == "appointments"), head


def test_the_doer_of_a_stored_activity_names_its_rows():
    from skills.answers.vocabulary import _doer

    assert _doer("installation") == "installer" and _doer("splicing") == "splicer"
    assert _doer("directional drilling") == "directional driller"
    assert _doer("aerial") is None and _doer("ring") is None and _doer("") is None


def test_worth_with_no_amount_after_it_is_a_measure_not_named(freight):
    """ "What's the Copper Belt Run contract worth?" asks for a figure the question does not name;
    before an amount "worth" only says the amount is the row's value."""
    asked = freight.read("What's the Copper Belt Run contract worth?")
    assert asked.code == "model_required" and asked.words == ("worth",)
    same(freight, "contracts worth over 1m", "SELECT project_name FROM contracts WHERE contract_value > 1000000")


def test_a_size_superlative_orders_by_a_number_not_by_the_date_after_it(freight):
    same(
        freight,
        "the 2 biggest contracts signed in 2024",
        "SELECT project_name, contract_value FROM contracts WHERE signed_on >= '2024-01-01' AND signed_on < '2025-01-01'"
        " ORDER BY contract_value DESC LIMIT 2",
    )


def test_a_total_of_a_child_table_adds_up_the_rows_of_the_parents_asked_about(freight):
    same(
        freight,
        "Total contract value for Karoo Haulage",
        "SELECT sum(t.contract_value) FROM contracts t JOIN carriers c USING (carrier_id)"
        " WHERE c.company_name = 'Karoo Haulage'",
    )
    same(
        freight,
        "What is the total contract value of carriers in Botswana?",
        "SELECT sum(t.contract_value) FROM contracts t JOIN carriers c USING (carrier_id) WHERE c.country = 'Botswana'",
    )


def test_a_total_of_the_one_parent_named_by_the_is_given_beside_its_name(clinic):
    reading = same(
        clinic,
        "What is the total fee of the doctor Naledi Mokoena for all appointments?",
        "SELECT d.full_name, sum(a.fee) FROM doctors d JOIN appointments a ON a.doctor_id = d.id"
        " WHERE d.full_name = 'Naledi Mokoena' GROUP BY d.full_name",
    )
    assert reading.one  # several doctors so named would be no answer


def test_a_total_over_the_rows_of_the_one_with_the_most(freight):
    same(
        freight,
        "What is the total cost of shipments for the carrier with the most trucks?",
        "SELECT sum(cost) FROM shipments WHERE carrier_id = (SELECT carrier_id FROM carriers ORDER BY fleet_size DESC LIMIT 1)",
    )


def test_a_lexicon_total_is_the_sum_of_its_column(freight):
    tonnage = freight.with_lexicon(Lexicon(totals={"shipments.weight_kg": ("tonnage", "freight carried")}))
    same(
        tonnage,
        "Tonnage for Kalahari Express Freight",
        "SELECT sum(s.weight_kg) FROM shipments s JOIN carriers c USING (carrier_id)"
        " WHERE c.company_name = 'Kalahari Express Freight'",
    )
    same(
        tonnage,
        "How much freight carried by lost shipments?",
        "SELECT sum(weight_kg) FROM shipments WHERE state = 'lost'",
    )
    # asked which things there are, a total is no answer
    refusal = tonnage.read("What do we have in tonnage?")
    assert isinstance(refusal, Refusal) and refusal.code == "model_required"


def test_a_lexicon_total_must_name_a_number_column(freight):
    from skills.answers.lexicon import check_against
    from skills.errors import RegistryInvalid

    with pytest.raises(RegistryInvalid) as raised:
        check_against(Lexicon(totals={"shipments.reference": ("refs",)}), freight.schema, "lexicon.yaml")
    assert "not a number" in raised.value.message and raised.value.field == "totals.shipments.reference"


def test_not_happened_yet_is_no_date_or_a_later_one_beside_the_stored_value(freight):
    refusal = freight.read("Which shipments have not been delivered yet?")
    assert isinstance(refusal, Refusal) and refusal.code == "ambiguous" and len(refusal.readings) == 2
    results = {tuple(sorted(freight.rows(r.sql, r.params))) for r in refusal.readings}
    by_date = freight.rows("SELECT reference FROM shipments WHERE delivered_on IS NULL OR delivered_on > %s", (TODAY,))
    by_state = freight.rows("SELECT reference FROM shipments WHERE state <> 'delivered'")
    assert results == {tuple(sorted(by_date)), tuple(sorted(by_state))}


def test_a_bare_number_before_a_thing_says_what_kind_not_how_many(freight):
    refusal = freight.read("How many 42 carriers are active?")  # not fleet_size = 42
    assert isinstance(refusal, Refusal) and refusal.code == "model_required"


def test_two_words_of_one_column_are_read_once(clinic):
    same(
        clinic,
        "How many doctors have experience years over 10?",
        "SELECT count(*) FROM doctors WHERE years_experience > 10",
    )


INSTALLS = Schema(
    (
        Table(
            "installations",
            (
                Column("id", "integer", False),
                Column("status", "text", False, values=("failed", "completed")),
                Column("installed_on", "date"),
                Column("scheduled_on", "date", False),
            ),
            ("id",),
        ),
    )
)


def test_a_plural_noun_is_no_participle_of_a_column_and_names_no_date():
    lexicon = Lexicon(tables={"installations": ("install", "installs")})
    counted = interpret("How many installs have failed?", INSTALLS, lexicon, today=TODAY)
    assert isinstance(counted, Reading) and counted.sql.startswith("SELECT count(*)"), counted
    assert "installed_on" not in counted.sql
    # "installs" names the table, not which of its two dates "this month" is about
    refusal = interpret("How many installs failed this month?", INSTALLS, lexicon, today=TODAY)
    assert isinstance(refusal, Refusal) and refusal.code == "model_required", refusal


SITES = Schema(
    (
        Table(
            "sites",
            (
                Column("id", "integer", False),
                Column("code", "text", False, is_name=True),
                Column("is_delayed", "boolean", False),
                Column("delay_days", "integer"),
                Column("homes", "integer"),
            ),
            ("id",),
        ),
    )
)


@pytest.mark.parametrize("question", ["Which site has the longest delay?", "Which site has been delayed the longest?"])
def test_a_superlative_of_a_flag_orders_by_the_number_of_its_word(question):
    reading = interpret(question, SITES, Lexicon(), today=TODAY)
    assert isinstance(reading, Reading), reading
    assert 'ORDER BY t0."delay_days" DESC' in reading.sql and "is_delayed" not in reading.sql
    # a flag with no number of its own word has no size
    flagless = Schema((Table("sites", tuple(c for c in SITES.tables[0].columns if c.name != "delay_days"), ("id",)),))
    refusal = interpret(question, flagless, Lexicon(), today=TODAY)
    assert isinstance(refusal, Refusal), refusal


def test_a_lexicon_condition_compares_two_columns_of_the_row(freight):
    late = freight.with_lexicon(
        Lexicon(conditions={"shipments.delivered_on > shipments.shipped_on": ("late", "running late")})
    )
    same(late, "How many shipments are running late?", "SELECT count(*) FROM shipments WHERE delivered_on > shipped_on")
    # not late: where it does not hold, and where there is nothing to compare (not delivered)
    same(
        late,
        "How many lost shipments are not late?",
        "SELECT count(*) FROM shipments WHERE state = 'lost' AND NOT coalesce(delivered_on > shipped_on, false)",
    )
    reading = same(
        late,
        "Which late shipments did Karoo Haulage carry?",
        "SELECT s.reference FROM shipments s JOIN carriers c USING (carrier_id)"
        " WHERE c.company_name = 'Karoo Haulage' AND s.delivered_on > s.shipped_on",
    )
    assert "delivered on > shipped on" in reading.interpretation


def test_a_value_alone_of_doers_the_question_does_not_name_is_where_they_are(freight):
    refusal = freight.read("How many shipments are in Namibia?")  # the carrier's country, not the shipment's
    assert isinstance(refusal, Refusal) and refusal.code == "model_required", refusal
    same(
        freight,
        "How many shipments of carriers in Namibia?",
        "SELECT count(*) FROM shipments s JOIN carriers c USING (carrier_id) WHERE c.country = 'Namibia'",
    )


POLES = Schema(
    (
        Table(
            "projects",
            (Column("id", "integer", False), Column("town", "text", values=("Lawley", "Mamelodi"))),
            ("id",),
        ),
        Table(
            "poles",
            (
                Column("id", "integer", False),
                Column("project_id", "integer", False),
                Column("status", "text", False, values=("planned", "erected", "rejected")),
                Column("erected_on", "date"),
            ),
            ("id",),
            (ForeignKey(("project_id",), "projects", ("id",)),),
        ),
    )
)


def test_a_date_columns_preposition_belongs_to_what_follows():
    """ "erected on Lawley": "on" says where; "erected" is the stored status or the date of the event."""
    refusal = interpret("How many poles have been erected on Lawley?", POLES, Lexicon(), today=TODAY)
    assert isinstance(refusal, Refusal) and refusal.code == "ambiguous", refusal
    assert {"status" in o or "erected by today" in o for o in refusal.options} == {True}
    assert len(refusal.options) == 2 and all("Lawley" in o for o in refusal.options)


def test_above_the_average_compares_a_column_with_its_own_average(freight, clinic):
    same(
        freight,
        "Which carriers have a fleet size above average?",
        "SELECT company_name FROM carriers WHERE fleet_size > (SELECT avg(fleet_size) FROM carriers)",
    )
    same(
        clinic,
        "How many doctors have a rating below the average?",
        "SELECT count(*) FROM doctors WHERE rating < (SELECT avg(rating) FROM doctors)",
    )
    # with another condition: the average of those rows, or of all; both written, compared
    refusal = clinic.read("Which Durban doctors have a rating above average?")
    assert isinstance(refusal, Refusal) and refusal.code == "ambiguous", refusal
    found = {tuple(sorted(clinic.rows(r.sql, r.params))) for r in refusal.readings}
    of_all = "SELECT full_name FROM doctors WHERE city = 'Durban' AND rating > (SELECT avg(rating) FROM doctors)"
    assert tuple(sorted(clinic.rows(of_all))) in found
    # said again after "average", the rows are the average's own
    same(
        clinic,
        "Which cardiology doctors have a rating above the average cardiology doctor?",
        "SELECT full_name FROM doctors WHERE specialty = 'cardiology'"
        " AND rating > (SELECT avg(rating) FROM doctors WHERE specialty = 'cardiology')",
    )


def test_a_lexicon_condition_on_a_total_of_child_rows(freight):
    """ "below reorder level" is sum(stock_movements.quantity) < materials.reorder_level: here the same
    shape over shipments' weights and a carrier's fleet, the conditions on the shipments scoping the sum."""
    light = freight.with_lexicon(
        Lexicon(conditions={"carriers.fleet_size > sum(shipments.weight_kg)": ("under loaded",)})
    )
    by_carrier = "SELECT coalesce(sum(s.weight_kg), 0) FROM shipments s WHERE s.carrier_id = c.carrier_id"
    same(
        light,
        "Which carriers are under loaded?",
        f"SELECT company_name FROM carriers c WHERE ({by_carrier}) < c.fleet_size",
    )
    same(
        light,
        "Which carriers are under loaded with lost shipments?",
        f"SELECT company_name FROM carriers c WHERE ({by_carrier} AND s.state = 'lost') < c.fleet_size",
    )
    same(
        light,
        "How many carriers are not under loaded?",
        f"SELECT count(*) FROM carriers c WHERE NOT coalesce(({by_carrier}) < c.fleet_size, false)",
    )


def test_the_most_of_a_tables_rows_counts_them_per_a_kind_asked_for(clinic):
    # "which <kind of row>" with no table after it: those rows are the subject, the others counted
    same(
        clinic,
        "Which cardiology doctor has the most appointments?",
        "SELECT d.full_name, count(*) FROM doctors d JOIN appointments a ON a.doctor_id = d.id"
        " WHERE d.specialty = 'cardiology' GROUP BY d.full_name ORDER BY 2 DESC FETCH FIRST 1 ROWS WITH TIES",
    )
    # nothing named to count them per: not the biggest one
    refusal = clinic.read("Who has had the most appointments?")
    assert isinstance(refusal, Refusal) and refusal.code == "model_required", refusal


def test_everyday_words_outside_and_of_one_field_and_adverbs(freight, clinic):
    same(
        freight, "How many carriers are outside Botswana?", "SELECT count(*) FROM carriers WHERE country <> 'Botswana'"
    )
    same(
        freight,
        "List the carriers in Namibia and Botswana",
        "SELECT company_name FROM carriers WHERE country IN ('Namibia', 'Botswana')",
    )
    finished = Schema(
        (
            Table(
                "projects",
                (
                    Column("id", "integer", False),
                    Column("name", "text", False, is_name=True),
                    Column("planned_end", "date"),
                    Column("actual_end", "date"),
                ),
                ("id",),
                names={"name": ("Lawley Phase 1",)},
            ),
        )
    )
    reading = interpret("When did Lawley Phase 1 actually end?", finished, Lexicon(), today=TODAY)
    assert isinstance(reading, Reading) and '"actual_end"' in reading.sql and "planned_end" not in reading.sql, reading


def test_a_lexicon_total_before_its_own_rows_only_says_which_rows(freight):
    tonnage = freight.with_lexicon(Lexicon(totals={"shipments.weight_kg": ("freight",)}))
    same(tonnage, "How many freight shipments are lost?", "SELECT count(*) FROM shipments WHERE state = 'lost'")


def test_a_lexicon_condition_is_said_of_its_own_rows(freight):
    late = freight.with_lexicon(Lexicon(conditions={"carriers.fleet_size > carriers.rating": ("well equipped",)}))
    refusal = late.read("How many shipments are well equipped?")  # the carriers', not the shipments'
    assert isinstance(refusal, Refusal), refusal
    same(
        late,
        "How many shipments of well equipped carriers are lost?",
        "SELECT count(*) FROM shipments s JOIN carriers c USING (carrier_id) WHERE c.fleet_size > c.rating"
        " AND s.state = 'lost'",
    )


def test_since_runs_up_to_today(freight):
    # shipments are dated past today too (planned ones): "since January" is what was shipped from then to now
    same(
        freight,
        "How many shipments were shipped since January?",
        f"SELECT count(*) FROM shipments WHERE shipped_on >= '2026-01-01' AND shipped_on <= '{TODAY}'",
    )


def test_a_field_of_the_row_with_the_most_related_rows_is_shown(clinic):
    reading = same(
        clinic,
        "What is the city of the doctor with the most appointments?",
        "SELECT d.full_name, d.city, count(*) FROM doctors d JOIN appointments a ON a.doctor_id = d.id"
        " GROUP BY d.full_name, d.city ORDER BY 3 DESC FETCH FIRST 1 ROWS WITH TIES",
    )
    assert reading.interpretation.startswith("city of doctors"), reading


def test_done_is_a_state_except_after_has(clinic):
    refusal = clinic.read("How many appointments are done?")  # no column or value says what "done" is here
    assert isinstance(refusal, Refusal) and refusal.code == "model_required" and "done" in refusal.words, refusal
    same(
        clinic,
        "Which doctor has done the most appointments?",
        "SELECT d.full_name, count(*) FROM doctors d JOIN appointments a ON a.doctor_id = d.id"
        " GROUP BY d.full_name ORDER BY 2 DESC FETCH FIRST 1 ROWS WITH TIES",
    )


def test_a_doer_beside_the_table_of_what_is_done_is_not_guessed():
    crews = Schema(
        (
            Table(
                "crews",
                (
                    Column("id", "integer", False),
                    Column("name", "text", False, is_name=True),
                    Column("specialty", "text", False, values=("installation", "inspection")),
                ),
                ("id",),
                names={"name": ("Alpha Crew", "Bravo Crew")},
            ),
            Table(
                "installations",
                (Column("id", "integer", False), Column("crew_id", "integer", False), Column("status", "text")),
                ("id",),
                foreign_keys=(ForeignKey(("crew_id",), "crews", ("id",)),),
            ),
        )
    )
    # "installer": the crews whose specialty is installation, or whoever did those installations
    refusal = interpret("Which installer has the most installations?", crews, Lexicon(), today=TODAY)
    assert isinstance(refusal, Refusal) and refusal.code == "model_required", refusal
    reading = interpret("How many installers are there?", crews, Lexicon(), today=TODAY)
    assert isinstance(reading, Reading) and reading.params == ("installation",), reading


def test_the_ing_of_a_three_letter_verb_keeps_its_own_sense():
    assert stem("running") != stem("runs") == stem("run")
    assert stem("planning") == stem("planned") == stem("plan")


def test_values_said_to_be_included_leave_no_row_out(clinic):
    # without it, a total of rows that may be cancelled is two readings; "cancelled ones included" is one
    refusal = clinic.read("What is the total fee of the appointments?")
    assert isinstance(refusal, Refusal) and refusal.code == "ambiguous", refusal
    reading = same(
        clinic,
        "What is the total fee of the appointments, cancelled ones included?",
        "SELECT sum(fee) FROM appointments",
    )
    assert "cancelled included" in reading.interpretation, reading
    same(clinic, "How many appointments are there, including missed ones?", "SELECT count(*) FROM appointments")
    same(
        clinic,
        "How many appointments were booked in 2025, counting the ones cancelled?",
        "SELECT count(*) FROM appointments WHERE scheduled_for >= '2025-01-01' AND scheduled_for < '2026-01-01'",
    )
    # asked only of some values, another one cannot be included too
    refusal = clinic.read("How many attended appointments are there, missed ones included?")
    assert isinstance(refusal, Refusal), refusal


def test_open_ended_numbers_breakdowns_and_chat_spellings(clinic):
    same(clinic, "Which doctors have a rating of 4.5 or more?", "SELECT full_name FROM doctors WHERE rating >= 4.5")
    same(clinic, "doctors with a rating of 4 or lower", "SELECT full_name FROM doctors WHERE rating <= 4")
    same(
        clinic,
        "Break the appointments down by status",
        "SELECT status, count(*) FROM appointments GROUP BY status",
    )
    same(clinic, "give me a breakdown of doctors by city", "SELECT city, count(*) FROM doctors GROUP BY city")
    same(clinic, "hw many appointments were missed pls", "SELECT count(*) FROM appointments WHERE status = 'missed'")
    same(
        clinic,
        "how many patients are flagged as active?",
        "SELECT count(*) FROM patients WHERE is_active",
    )


def test_a_superlative_of_a_total_orders_the_rows_by_their_children(freight):
    tonnage = freight.with_lexicon(Lexicon(totals={"shipments.weight_kg": ("tonnage",)}))
    by_carrier = (
        "SELECT c.company_name, sum(s.weight_kg) FROM carriers c JOIN shipments s USING (carrier_id)"
        " {} GROUP BY c.company_name ORDER BY 2 {} FETCH FIRST {} ROWS WITH TIES"
    )
    reading = same(tonnage, "Which carrier has the biggest tonnage?", by_carrier.format("", "DESC", 1))
    assert "the highest" in reading.interpretation, reading
    same(
        tonnage,
        "Which 2 carriers in South Africa have the smallest tonnage?",
        by_carrier.format("WHERE c.country = 'South Africa'", "ASC", 2),
    )
