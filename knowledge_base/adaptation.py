"""Adapting the encoder to one FAQ's own phrasings with a contrastive loss.

Why: a general-purpose sentence encoder spreads one FAQ's phrasings ("card not arrived",
"still waiting on my card") and lets neighbouring FAQs ("card delivery estimate") overlap.
A short fine-tune that pulls each FAQ's phrasings together and pushes other FAQs away
(in-batch negatives, InfoNCE) makes the FAQ's own distinctions the dominant ones, which
raises top-1 and widens the gap to out-of-scope queries.

Batches hold one (anchor, positive) pair per FAQ, so no in-batch "negative" is secretly a
paraphrase of the anchor. The number of steps grows with the FAQ but is capped, so
adaptation stays within minutes on two CPU cores whatever the FAQ size.
"""

from __future__ import annotations

import logging
import math
import os
import random
from dataclasses import dataclass
from typing import Sequence

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AdaptConfig:
    enabled: bool = True
    batch_faqs: int = 32  # pairs per step (= distinct FAQs per batch)
    epochs: float = 2.0  # passes over all phrasings (each phrasing anchors once per epoch)
    min_steps: int = 20
    max_steps: int = 60  # a time budget (~1-4 min on 2 cores); the loss is still falling here
    learning_rate: float = 5e-5
    scale: float = 20.0  # inverse temperature of the cosine logits
    max_tokens: int = 48  # phrasings are short; truncating bounds the cost of outliers
    seed: int = 0
    min_faqs: int = 2  # contrast needs at least two FAQs


def plan_steps(n_texts: int, config: AdaptConfig) -> int:
    steps = math.ceil(config.epochs * n_texts / config.batch_faqs)
    return max(config.min_steps, min(config.max_steps, steps))


def _batches(groups: Sequence[Sequence[str]], config: AdaptConfig, steps: int, rng: random.Random):
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


def adapt(model, groups: Sequence[Sequence[str]], config: AdaptConfig, *, progress: bool = False) -> dict:
    """Fine-tune a SentenceTransformer in place; returns a small training report."""
    import torch
    import torch.nn.functional as F

    if not config.enabled or len(groups) < config.min_faqs:
        return {"steps": 0, "skipped": True}
    n_texts = sum(len(g) for g in groups)
    steps = plan_steps(n_texts, config)
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    # Query encoding may have left torch on one thread (see encoder.py); training wants all.
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    old_max = model.max_seq_length
    model.max_seq_length = min(old_max or config.max_tokens, config.max_tokens)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
    warmup = max(1, steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / max(1, steps - warmup))
    )
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=steps, desc="adapting encoder", unit="step")
    preprocess = getattr(model, "preprocess", None) or model.tokenize
    model.train()
    losses: list[float] = []
    try:
        for anchors, positives in _batches(groups, config, steps, rng):
            features = preprocess(anchors + positives)
            features = {k: v for k, v in features.items() if hasattr(v, "to")}
            emb = F.normalize(model(features)["sentence_embedding"], dim=-1)
            a, p = emb[: len(anchors)], emb[len(anchors):]
            logits = config.scale * a @ p.T
            target = torch.arange(len(anchors))
            loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{sum(losses[-10:]) / len(losses[-10:]):.3f}")
    finally:
        if bar is not None:
            bar.close()
        model.eval()
        model.max_seq_length = old_max
    report = {"steps": steps, "first_loss": round(losses[0], 4), "last_loss": round(sum(losses[-10:]) / len(losses[-10:]), 4)}
    logger.info("encoder adapted: %s", report)
    return report
