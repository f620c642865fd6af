"""Adapting the encoder to one FAQ's own phrasings.

Why: a general-purpose sentence encoder spreads one FAQ's phrasings ("card not arrived",
"still waiting on my card") and lets neighbouring FAQs ("card delivery estimate") overlap.
A short fine-tune that pulls each FAQ's phrasings together and pushes other FAQs away
makes the FAQ's own distinctions the dominant ones, which raises top-1 and widens the gap
to out-of-scope queries.

Two objectives:
- "prototypes" (default, whole model): every phrasing is classified against *all* FAQs
  through a cosine classifier whose rows start at the frozen FAQ centroids (scale 20,
  cross-entropy). Each step therefore contrasts with every FAQ, including the one or two
  look-alikes that matter, which a random batch of pairs rarely holds. The classifier is
  thrown away; only the encoder is kept (the index scores by cosine as before).
- "pairs": symmetric InfoNCE over (anchor, positive) pairs with in-batch negatives, one
  pair per FAQ per batch so no "negative" is a paraphrase of the anchor. The top-layer
  path always uses it.

The number of steps grows with the FAQ but is capped, so adaptation stays within minutes
on two CPU cores whatever the FAQ size.
"""

from __future__ import annotations

import logging
import math
import os
import random
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Sequence

from .augment import with_noisy_copies

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AdaptConfig:
    enabled: bool = True
    # "prototypes" or "pairs" (module docstring); the top-layer path always uses pairs.
    objective: str = "prototypes"
    batch_texts: int = 64  # prototypes: phrasings per step
    passes: float = 4.0  # prototypes: passes over all phrasings
    classifier_lr: float = 1e-2  # prototypes: the throw-away classifier learns faster than the encoder
    batch_faqs: int = 32  # pairs per step (= distinct FAQs per batch, fewer if the FAQ is smaller)
    epochs: float = 2.0  # pairs: passes over all phrasings (each phrasing anchors once per epoch)
    min_steps: int = 20
    # Bounds the build time for large FAQs: a whole-model step of 64 phrasings takes ~1.7 s
    # on two quiet cores (several times that on a busy machine), so 150 steps is ~4-5 min.
    max_steps: int = 150
    learning_rate: float = 5e-5
    scale: float = 20.0  # inverse temperature of the cosine logits
    # Top transformer layers trained on cached lower-layer states; 0 = the whole model.
    # The whole model is the default: top-layer training is several times cheaper per step
    # but was less accurate on every set we have, most on the unseen Bitext FAQ (wrong
    # answers 0.037 vs 0.013); see docs/knowledge_base.md. HELPLINE_KB_ADAPT_LAYERS=1
    # chooses the cheap path.
    train_layers: int = 0
    # Weight of an extra cross-entropy loss over FAQ labels through a cosine classifier
    # trained jointly (top-layer path only; the classifier is discarded). 0 = off: it did
    # not beat the contrastive loss alone in our runs (docs/knowledge_base.md).
    label_loss: float = 0.0
    max_tokens: int = 48  # whole-model path: phrasings are short; truncating bounds outliers
    # Whole-model path: noisy copies of each phrasing (words dropped, two swapped) added for
    # training only (augment.py) when all passes over them fit within max_steps.
    noisy_copies: int = 1
    seed: int = 0
    min_faqs: int = 2  # contrast needs at least two FAQs


@dataclass
class Adapted:
    """What adaptation did, and (fast path) the adapted vectors of the phrasings, in order."""

    report: dict
    vectors: "np.ndarray | None" = None


def plan_steps(n_texts: int, config: AdaptConfig, n_faqs: int | None = None, objective: str = "pairs") -> int:
    """Steps for the configured passes over the phrasings, within [min_steps, max_steps].

    Pairs: a batch holds at most one pair per FAQ, so a small FAQ has small batches and
    its epochs are counted with that batch size. Prototypes: `passes` over the phrasings
    in batches of `batch_texts`."""
    return max(config.min_steps, min(config.max_steps, _steps_for_passes(n_texts, config, n_faqs, objective)))


def _steps_for_passes(n_texts: int, config: AdaptConfig, n_faqs: int | None, objective: str) -> int:
    """Steps for all configured passes over `n_texts`, before the bounds."""
    if objective == "prototypes":
        return math.ceil(config.passes * n_texts / max(1, min(config.batch_texts, n_texts)))
    per_batch = min(config.batch_faqs, n_faqs) if n_faqs else config.batch_faqs
    return math.ceil(config.epochs * n_texts / max(1, per_batch))


def _copies_fit(n_texts: int, n_faqs: int, config: AdaptConfig) -> bool:
    """Noisy copies only when every pass over phrasings and copies fits within max_steps.

    Why: once the step cap binds (a large FAQ), copies take the place of real phrasings in
    the passes; on BANKING77 with all phrasings and on CLINC150 top-1 was 0.002-0.004
    lower with them, while a 10-phrasing FAQ gained (docs/knowledge_base.md)."""
    if config.noisy_copies <= 0:
        return False
    with_copies = n_texts * (1 + config.noisy_copies)
    return _steps_for_passes(with_copies, config, n_faqs, config.objective) <= config.max_steps


def _batches(groups: Sequence[Sequence], config: AdaptConfig, steps: int, rng: random.Random):
    """Yield (anchors, positives) with at most one pair per FAQ in a batch."""
    faqs = list(range(len(groups)))
    per_batch = min(config.batch_faqs, len(faqs))
    # Cycle through each FAQ's phrasings so every phrasing gets to be an anchor.
    cursors = {i: 0 for i in faqs}
    orders = {i: rng.sample(range(len(groups[i])), len(groups[i])) for i in faqs}
    weights = [len(g) for g in groups]  # FAQs with more phrasings are visited more often
    for _ in range(steps):
        chosen: set[int] = set()
        while len(chosen) < per_batch:
            chosen.update(rng.choices(faqs, weights=weights, k=per_batch - len(chosen)))
        anchors, positives = [], []
        for i in chosen:
            texts = groups[i]
            order = orders[i]
            a = order[cursors[i] % len(order)]
            cursors[i] += 1
            # A one-phrasing FAQ pairs with itself: dropout still makes the two views
            # differ (SimCSE), and it keeps serving as a negative for the others.
            p = rng.choice([j for j in range(len(texts)) if j != a]) if len(texts) > 1 else a
            anchors.append(texts[a])
            positives.append(texts[p])
        yield anchors, positives


def adapt(model, groups: Sequence[Sequence[str]], config: AdaptConfig, *, progress: bool = False) -> Adapted:
    """Fine-tune a SentenceTransformer in place.

    With `train_layers` > 0 and a BERT-like model only the top layers are trained, on
    cached outputs of the frozen lower layers, and the adapted phrasing vectors come back
    with the report (no second encoding pass needed)."""
    import torch

    if not config.enabled or len(groups) < config.min_faqs:
        return Adapted({"steps": 0, "skipped": True})
    if config.objective not in ("prototypes", "pairs"):
        raise ValueError(f"unknown adaptation objective {config.objective!r}")
    n_texts = sum(len(g) for g in groups)
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    # Query encoding may have left torch on one thread (see encoder.py); training wants all.
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if TopLayerRunner.supports(model, config.train_layers):
        return _adapt_top_layers(model, groups, config, plan_steps(n_texts, config, len(groups)), rng, progress)
    if _copies_fit(n_texts, len(groups), config):
        groups = with_noisy_copies(groups, config.noisy_copies, random.Random(config.seed))
        n_texts = sum(len(g) for g in groups)
    else:
        config = replace(config, noisy_copies=0)  # so the report says what training saw
    steps = plan_steps(n_texts, config, len(groups), objective=config.objective)
    return _adapt_whole_model(model, groups, config, steps, rng, progress)


def _bar(progress: bool, total: int, desc: str, unit: str):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit)


def _optimise(param_groups: list[dict], batch_losses, steps: int, bar) -> list[float]:
    """AdamW with warm-up and linear decay over `steps`; `batch_losses` yields one loss a step."""
    import torch

    parameters = [p for group in param_groups for p in group["params"]]
    optimizer = torch.optim.AdamW(param_groups, weight_decay=0.01)
    warmup = max(1, steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / max(1, steps - warmup))
    )
    losses: list[float] = []
    for loss in batch_losses:
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{sum(losses[-10:]) / len(losses[-10:]):.3f}")
    return losses


def _train(parameters, embed, batches, config: AdaptConfig, steps: int, bar, extra_loss=None) -> list[float]:
    """Symmetric InfoNCE over (anchor, positive) batches; `embed` maps a batch to unit vectors."""
    import torch
    import torch.nn.functional as F

    def batch_losses():
        for anchors, positives in batches:
            emb = embed(list(anchors) + list(positives))
            a, p = emb[: len(anchors)], emb[len(anchors):]
            logits = config.scale * a @ p.T
            target = torch.arange(len(anchors))
            loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
            if extra_loss is not None:
                loss = loss + extra_loss(emb, list(anchors) + list(positives))
            yield loss

    return _optimise([{"params": list(parameters), "lr": config.learning_rate}], batch_losses(), steps, bar)


def _frozen_centroids(embed, texts: list[str], labels, n_faqs: int, progress: bool):
    """Unit mean vector of each FAQ's phrasings under the encoder as it is (no gradients)."""
    import torch
    import torch.nn.functional as F

    bar = _bar(progress, len(texts), "adapting encoder: FAQ centroids", "text")
    parts = []
    try:
        with torch.no_grad():
            for start in range(0, len(texts), 256):
                parts.append(embed(texts[start:start + 256]))
                if bar is not None:
                    bar.update(len(parts[-1]))
    finally:
        if bar is not None:
            bar.close()
    vectors = torch.cat(parts)
    return F.normalize(torch.zeros(n_faqs, vectors.shape[1]).index_add_(0, labels, vectors), dim=-1)


def _train_prototypes(model, embed, texts: list[str], labels, centroids, config: AdaptConfig, steps: int,
                      rng: random.Random, bar) -> list[float]:
    """Cross-entropy of phrasings against all FAQs through a cosine classifier (see module doc)."""
    import torch
    import torch.nn.functional as F

    classifier = torch.nn.Parameter(centroids.clone())
    per_batch = min(config.batch_texts, len(texts))

    def batch_losses():
        order: list[int] = []
        for _ in range(steps):
            if len(order) < per_batch:  # a fresh shuffle per pass: every phrasing once a pass
                order += rng.sample(range(len(texts)), len(texts))
            batch, order = order[:per_batch], order[per_batch:]
            emb = embed([texts[i] for i in batch])
            logits = config.scale * emb @ F.normalize(classifier, dim=-1).T
            yield F.cross_entropy(logits, labels[torch.tensor(batch)])

    param_groups = [
        {"params": list(model.parameters()), "lr": config.learning_rate},
        {"params": [classifier], "lr": config.classifier_lr, "weight_decay": 0.0},
    ]
    return _optimise(param_groups, batch_losses(), steps, bar)


def _in_length_order(items, length, run, chunk: int = 32):
    """`run` over chunks of items of similar length; its output rows back in the items' order.

    Why: padding a random batch to its longest phrasing more than doubled the cost of a
    training step (phrasings average ~16 tokens, the longest are 48+)."""
    import torch

    order = sorted(range(len(items)), key=lambda i: length(items[i]))
    stacked = torch.cat([run([items[i] for i in order[s:s + chunk]]) for s in range(0, len(order), chunk)])
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order)] = torch.arange(len(order))
    return stacked[inverse]


def _report(steps: int, losses: list[float], **extra) -> dict:
    report = {"steps": steps, "first_loss": round(losses[0], 4), "last_loss": round(sum(losses[-10:]) / len(losses[-10:]), 4)}
    report.update(extra)
    logger.info("encoder adapted: %s", report)
    return report


def _adapt_whole_model(model, groups, config: AdaptConfig, steps: int, rng: random.Random, progress: bool) -> Adapted:
    import torch
    import torch.nn.functional as F

    old_max = model.max_seq_length
    model.max_seq_length = min(old_max or config.max_tokens, config.max_tokens)
    preprocess = getattr(model, "preprocess", None) or model.tokenize

    def run(texts):
        features = {k: v for k, v in preprocess(texts).items() if hasattr(v, "to")}
        return model(features)["sentence_embedding"]

    def embed(texts):
        return F.normalize(_in_length_order(texts, len, run), dim=-1)

    bar = None
    try:
        if config.objective == "prototypes":
            texts = [t for g in groups for t in g]
            labels = torch.tensor([faq for faq, g in enumerate(groups) for _ in g], dtype=torch.long)
            model.eval()
            centroids = _frozen_centroids(embed, texts, labels, len(groups), progress)
            bar = _bar(progress, steps, "adapting encoder", "step")
            model.train()
            losses = _train_prototypes(model, embed, texts, labels, centroids, config, steps, rng, bar)
        else:
            bar = _bar(progress, steps, "adapting encoder", "step")
            model.train()
            losses = _train(model.parameters(), embed, _batches(groups, config, steps, rng), config, steps, bar)
    finally:
        if bar is not None:
            bar.close()
        model.eval()
        model.max_seq_length = old_max
    return Adapted(_report(steps, losses, layers="all", objective=config.objective, noisy_copies=config.noisy_copies))


def _adapt_top_layers(model, groups, config: AdaptConfig, steps: int, rng: random.Random, progress: bool) -> Adapted:
    runner = TopLayerRunner(model, config.train_layers)
    texts = [t for g in groups for t in g]
    index_groups, start = [], 0
    for g in groups:
        index_groups.append(list(range(start, start + len(g))))
        start += len(g)
    bar = _bar(progress, len(texts), "adapting encoder: lower layers", "text")
    try:
        states = runner.cache(texts, bar=bar)
    finally:
        if bar is not None:
            bar.close()
    for p in model.parameters():
        p.requires_grad_(False)
    for p in runner.parameters():
        p.requires_grad_(True)
    bar = _bar(progress, steps, f"adapting encoder: top {config.train_layers} layer(s)", "step")
    parameters, extra = runner.parameters(), None
    if config.label_loss > 0:
        parameters, extra = _label_loss(runner, states, index_groups, config, parameters)
    model.train()
    try:
        losses = _train(parameters, lambda idx: runner.embed([states[i] for i in idx]),
                        _batches(index_groups, config, steps, rng), config, steps, bar, extra)
    finally:
        if bar is not None:
            bar.close()
        model.eval()
        for p in model.parameters():
            p.requires_grad_(True)
    vectors = runner.encode_cached(states)
    return Adapted(_report(steps, losses, layers=config.train_layers), vectors)

def _label_loss(runner, states, index_groups, config: AdaptConfig, parameters):
    """A cosine classifier over FAQ labels, initialised at the frozen FAQ centroids."""
    import torch
    import torch.nn.functional as F

    label = torch.empty(len(states), dtype=torch.long)
    for faq, members in enumerate(index_groups):
        label[members] = faq
    with torch.no_grad():
        vectors = torch.from_numpy(runner.encode_cached(states))
    centroids = torch.zeros(len(index_groups), vectors.shape[1]).index_add_(0, label, vectors)
    weights = torch.nn.Parameter(F.normalize(centroids, dim=-1))

    def loss(emb, items):
        logits = config.scale * emb @ F.normalize(weights, dim=-1).T
        return config.label_loss * F.cross_entropy(logits, label[torch.tensor(items)])

    return list(parameters) + [weights], loss


class TopLayerRunner:
    """Runs a BERT-like sentence encoder from cached hidden states of a lower layer.

    Why: on two CPU cores a full fine-tuning step (forward and backward through all six
    layers for 64-128 phrasings) costs seconds. Freezing the lower layers and caching
    their outputs once makes a step cost only the trained top layer(s), so many more steps
    (and larger batches of in-batch negatives) fit in the same time. The cached states also
    give the final phrasing vectors without a second encoding pass.
    Only used when the model is [Transformer(BERT-like), mean Pooling, (Normalize)];
    anything else falls back to training the whole model.
    """

    def __init__(self, model, train_layers: int):
        self.model = model
        self.transformer = model[0]
        self.auto = self.transformer.auto_model
        layers = self.auto.encoder.layer
        self.split = max(0, len(layers) - train_layers)
        self.lower = list(layers[: self.split])
        self.top = list(layers[self.split:])

    @staticmethod
    def supports(model, train_layers: int) -> bool:
        try:
            modules = list(model)
            names = [type(m).__name__ for m in modules]
            auto = modules[0].auto_model
            pooling = modules[1]
            mean = getattr(pooling, "pooling_mode", None) == "mean" or getattr(pooling, "pooling_mode_mean_tokens", False)
            return (
                0 < train_layers < len(auto.encoder.layer)
                and names[0] == "Transformer"
                and names[1] == "Pooling"
                and all(n == "Normalize" for n in names[2:])
                and bool(mean)
                and getattr(auto.config, "model_type", "") in ("bert", "roberta", "xlm-roberta")
                and hasattr(auto, "embeddings")
            )
        except Exception:  # noqa: BLE001 - unknown architecture: use the general path
            return False

    def parameters(self):
        return [p for layer in self.top for p in layer.parameters()]

    @staticmethod
    def _additive_mask(mask, dtype):
        import torch

        return ((1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min)

    @staticmethod
    def _run(layers, hidden, mask):
        for layer in layers:
            out = layer(hidden, mask)
            hidden = out[0] if isinstance(out, tuple) else out
        return hidden

    def cache(self, texts, batch_size: int = 64, bar=None):
        """Hidden states after the frozen layers, one (tokens, dim) tensor per text."""
        import torch

        preprocess = getattr(self.model, "preprocess", None) or self.model.tokenize
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        states = [None] * len(texts)
        self.auto.eval()
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chunk = order[start:start + batch_size]
                features = preprocess([texts[i] for i in chunk])
                kwargs = {k: features[k] for k in ("input_ids", "token_type_ids") if k in features}
                hidden = self.auto.embeddings(**kwargs)
                mask = features["attention_mask"]
                hidden = self._run(self.lower, hidden, self._additive_mask(mask, hidden.dtype))
                lengths = mask.sum(dim=1).tolist()
                for row, i in enumerate(chunk):
                    states[i] = hidden[row, : lengths[row]].clone()
                if bar is not None:
                    bar.update(len(chunk))
        return states

    def embed(self, states, chunk: int = 32):
        """Normalised sentence embeddings from cached states (grad flows into the top layers),
        run in chunks of similar length."""
        return _in_length_order(states, len, self._embed_padded, chunk)

    def _embed_padded(self, states):
        import torch
        import torch.nn.functional as F

        lengths = torch.tensor([len(s) for s in states])
        hidden = torch.nn.utils.rnn.pad_sequence(list(states), batch_first=True)
        mask = (torch.arange(hidden.shape[1])[None, :] < lengths[:, None]).to(hidden.dtype)
        hidden = self._run(self.top, hidden, self._additive_mask(mask, hidden.dtype))
        pooled = (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1e-9)
        return F.normalize(pooled, dim=-1)

    def encode_cached(self, states, batch_size: int = 128):
        import numpy as np
        import torch

        self.auto.eval()
        order = sorted(range(len(states)), key=lambda i: len(states[i]))
        out = np.zeros((len(states), self.auto.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chunk = order[start:start + batch_size]
                out[chunk] = self.embed([states[i] for i in chunk]).numpy()
        return out
