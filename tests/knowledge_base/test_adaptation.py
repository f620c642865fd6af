import random

from knowledge_base.adaptation import AdaptConfig, _batches, plan_steps


def test_batches_never_pair_two_faqs_or_repeat_a_faq():
    groups = [[f"faq{i} text{j}" for j in range(1 + i % 4)] for i in range(10)]
    config = AdaptConfig(batch_faqs=6)
    for anchors, positives in _batches(groups, config, steps=50, rng=random.Random(0)):
        faqs = [a.split()[0] for a in anchors]
        assert len(faqs) == len(set(faqs)) == 6
        assert [p.split()[0] for p in positives] == faqs
        for a, p in zip(anchors, positives):
            single = len(groups[int(a.split()[0][3:])]) == 1
            assert (a == p) == single  # a positive is another phrasing unless there is none


def test_step_plan_is_capped():
    config = AdaptConfig(batch_faqs=32, epochs=2, min_steps=20, max_steps=60)
    assert plan_steps(10, config) == 20
    assert plan_steps(770, config) == 49
    assert plan_steps(15000, config) == 60
