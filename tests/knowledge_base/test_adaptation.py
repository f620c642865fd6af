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


GROUPS = [
    ["I forgot my password", "reset my password", "can't log in, password lost"],
    ["where is my parcel", "track my package", "my order has not arrived"],
    ["cancel my order", "I want to cancel a purchase"],
]


def _base_model():
    from knowledge_base.encoder import DEFAULT_MODEL, load_encoder

    return load_encoder(DEFAULT_MODEL)


def test_top_layer_adaptation_trains_only_the_top_and_returns_the_models_own_vectors():
    import numpy as np
    import torch

    from knowledge_base.adaptation import TopLayerRunner, adapt

    encoder = _base_model()
    layers = encoder.model[0].auto_model.encoder.layer
    before = [[p.detach().clone() for p in layer.parameters()] for layer in layers]
    config = AdaptConfig(train_layers=1, min_steps=3, max_steps=3, learning_rate=1e-3)
    assert TopLayerRunner.supports(encoder.model, 1)
    result = adapt(encoder.model, GROUPS, config)
    assert result.report["steps"] == 3 and result.report["layers"] == 1
    changed = [any(not torch.equal(a, b) for a, b in zip(old, layer.parameters())) for old, layer in zip(before, layers)]
    assert changed == [False] * (len(layers) - 1) + [True]
    # The vectors handed back (from cached lower-layer states) are what the saved model
    # itself gives at query time, so the index and the queries agree.
    texts = [t for g in GROUPS for t in g]
    assert np.abs(result.vectors - encoder.encode(texts)).max() < 1e-5
    assert all(p.requires_grad for p in encoder.model.parameters())  # left as found


def test_unsupported_layer_count_falls_back_to_whole_model_training():
    from knowledge_base.adaptation import adapt

    encoder = _base_model()
    result = adapt(encoder.model, GROUPS, AdaptConfig(train_layers=0, min_steps=2, max_steps=2))
    assert result.report["layers"] == "all" and result.vectors is None


def test_small_faqs_count_epochs_with_their_smaller_batches():
    config = AdaptConfig(batch_faqs=64, epochs=3, min_steps=20, max_steps=150)
    assert plan_steps(12, config, n_faqs=3) == 20  # 12 steps of 3 pairs, raised to the minimum
    assert plan_steps(300, config, n_faqs=30) == 30
    assert plan_steps(770, config, n_faqs=77) == 37
    assert plan_steps(10_000, config, n_faqs=77) == 150


def test_prototype_steps_count_passes_over_the_phrasings():
    config = AdaptConfig(batch_texts=64, passes=4, min_steps=20, max_steps=150)
    assert plan_steps(770, config, n_faqs=77, objective="prototypes") == 49
    assert plan_steps(30, config, n_faqs=3, objective="prototypes") == 20
    assert plan_steps(10_000, config, n_faqs=77, objective="prototypes") == 150


def test_prototype_objective_trains_the_whole_encoder_and_adds_nothing_to_it():
    import pytest
    import torch

    from knowledge_base.adaptation import adapt

    encoder = _base_model()
    before = [p.detach().clone() for p in encoder.model.parameters()]
    sentences = [t for g in GROUPS for t in g]
    vectors_before = encoder.encode(sentences)
    result = adapt(encoder.model, GROUPS, AdaptConfig(min_steps=3, max_steps=3, learning_rate=1e-3))
    assert result.report["objective"] == "prototypes" and result.report["steps"] == 3
    assert result.report["noisy_copies"] == 0  # 3 steps leave no room for the default noisy copy
    after = list(encoder.model.parameters())
    assert len(after) == len(before)  # the classifier is thrown away
    assert any(not torch.equal(a, b) for a, b in zip(before, after))
    assert not encoder.model.training
    # Phrasings of one FAQ end up closer to each other than before.
    import numpy as np

    vectors_after = encoder.encode(sentences)
    def within(v):
        return float(np.mean([v[i] @ v[j] for i in range(3) for j in range(3) if i != j]))
    assert within(vectors_after) > within(vectors_before)
    with pytest.raises(ValueError):
        adapt(encoder.model, GROUPS, AdaptConfig(objective="triplets"))


def test_optional_label_loss_trains_and_keeps_the_classifier_out_of_the_model():
    import numpy as np

    from knowledge_base.adaptation import adapt

    encoder = _base_model()
    n_params = sum(1 for _ in encoder.model.parameters())
    result = adapt(encoder.model, GROUPS, AdaptConfig(train_layers=1, label_loss=1.0, min_steps=2, max_steps=2))
    assert result.report["steps"] == 2 and np.isfinite(result.vectors).all()
    assert sum(1 for _ in encoder.model.parameters()) == n_params  # the classifier is discarded


def test_noisy_copies_only_when_their_passes_fit_the_step_cap():
    from knowledge_base.adaptation import _copies_fit

    config = AdaptConfig(batch_texts=64, passes=4, max_steps=150, noisy_copies=1)
    assert _copies_fit(847, 77, config)  # BANKING77, 10 phrasings per FAQ: 106 steps
    assert not _copies_fit(8_079, 77, config)  # all phrasings: the cap binds, copies would displace phrasings
    assert not _copies_fit(847, 77, AdaptConfig(noisy_copies=0))
