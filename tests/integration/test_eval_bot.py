"""scripts/eval_bot.py: the end-to-end evaluation judges replies by what the customer sees."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.stack_harness import PROJECT, Stack

_spec = importlib.util.spec_from_file_location("eval_bot", PROJECT / "scripts" / "eval_bot.py")
assert _spec is not None and _spec.loader is not None
eval_bot = importlib.util.module_from_spec(_spec)
sys.modules["eval_bot"] = eval_bot
_spec.loader.exec_module(eval_bot)


def reply(*texts: str, payloads: tuple[str, ...] = ()) -> "eval_bot.Reply":
    return eval_bot.Reply(texts=list(texts), payloads=list(payloads))


def test_judge_reads_answers_suggestions_and_handover_from_the_customer_view() -> None:
    cancel = eval_bot.Probe("how do I cancel", "orders.cancel", "q.csv")
    answered = reply("You can cancel ...", payloads=('/feedback{"helpful":"yes","faq_id":"orders.cancel"}',
                                                    '/feedback{"helpful":"no","faq_id":"orders.cancel"}'))
    assert eval_bot.judge(cancel, answered) == (eval_bot.ANSWERED_RIGHT, "orders.cancel")
    other = reply("Track it ...", payloads=('/feedback{"helpful":"yes","faq_id":"orders.track"}',))
    assert eval_bot.judge(cancel, other) == (eval_bot.ANSWERED_WRONG, "orders.track")
    buttons = reply("Did you mean one of these?", payloads=('/faq_select{"faq_id":"orders.change"}',
                                                           '/faq_select{"faq_id":"orders.cancel"}',
                                                           '/faq_select{"faq_id":"(none)"}'))
    assert eval_bot.judge(cancel, buttons)[0] == eval_bot.SUGGESTED_RIGHT
    assert eval_bot.judge(eval_bot.Probe("x", "payment.methods", "q.csv"), buttons)[0] == eval_bot.SUGGESTED_OTHER
    handover = reply("I'm passing this to a colleague from our support team.", "Your ticket is HL-12.")
    assert eval_bot.judge(eval_bot.Probe("a person please", "escalate", "e.csv"), handover)[0] == eval_bot.ESCALATED
    oos = eval_bot.Probe("how many moons has Jupiter", None, "q.csv")
    assert eval_bot.judge(oos, reply("Sorry, I don't have an answer for that yet. Could you rephrase ..."))[0] == eval_bot.FELL_BACK
    assert eval_bot.judge(oos, answered)[0] == eval_bot.ANSWERED_WRONG
    assert eval_bot.judge(oos, reply("Okay. What else can I help you with?"))[0] == eval_bot.OTHER


def test_summary_splits_each_file_into_in_scope_out_of_scope_and_escalation() -> None:
    probes = [eval_bot.Probe("a", "orders.cancel", "q.csv"), eval_bot.Probe("b", None, "q.csv"),
              eval_bot.Probe("c", "escalate", "e.csv"), eval_bot.Probe("d", "orders.track", "q.csv")]
    outcomes = [eval_bot.ANSWERED_RIGHT, eval_bot.FELL_BACK, eval_bot.ESCALATED, eval_bot.SUGGESTED_RIGHT]
    summary = eval_bot.summarise([(p, reply(), o, None) for p, o in zip(probes, outcomes)])
    assert summary["q.csv in_scope"]["n"] == 2
    assert summary["q.csv in_scope"][eval_bot.ANSWERED_RIGHT] == 0.5
    assert summary["q.csv in_scope"][eval_bot.SUGGESTED_RIGHT] == 0.5
    assert summary["q.csv out_of_scope"][eval_bot.FELL_BACK] == 1.0
    assert summary["e.csv escalation"][eval_bot.ESCALATED] == 1.0


@pytest.mark.integration
@pytest.mark.timeout(600)
async def test_messages_through_the_real_stack_are_judged_by_their_replies(stack: Stack, tmp_path: Path) -> None:
    queries = tmp_path / "q.csv"
    queries.write_text("text,faq_id\nHow can I cancel an order I placed yesterday?,orders.cancel\n"
                       "Which planet has the most moons?,\n", encoding="utf-8")
    escalation = tmp_path / "e.csv"
    escalation.write_text("text,expected\nI want to talk to a human please,request_human\n", encoding="utf-8")
    probes = eval_bot.read_probes([queries], [escalation], None)
    results = await eval_bot.run_probes(stack.url, probes, concurrency=2, progress=False)
    outcomes = {probe.text: outcome for probe, _, outcome, _ in results}
    assert outcomes == {
        "How can I cancel an order I placed yesterday?": eval_bot.ANSWERED_RIGHT,
        "Which planet has the most moons?": eval_bot.FELL_BACK,
        "I want to talk to a human please": eval_bot.ESCALATED,
    }
    answer_reply = next(r for p, r, _, _ in results if p.expected == "orders.cancel")
    assert any("cancel" in t.lower() for t in answer_reply.texts)
