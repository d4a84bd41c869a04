"""Does every lesson card teach its lesson on any seed? Trains each gallery card at several
seeds and prints, per card, its target, the result per seed and how many seeds reach it.

    python bench/lessons.py                    # every card, seeds 0-9
    python bench/lessons.py xor.json spirals.json --seeds 3 --jobs 2

A card passes when at least 9 of 10 seeds (90%) teach its lesson (the bounds on what the run
measures, the alarms that are its lesson, its contrast with its partner card at the same
seed) and at least 9 run quietly: the health panel's check, at every epoch of the run as
the app makes it, raises no other alarm. Exit status 1 when a card falls short. Training is CPU-bound: on a
shared machine keep --jobs at or below the idle cores.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread per run: --jobs runs side by side
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from designer.lessons import Card, LessonRun, load_cards, run_card

NEEDED = 0.9  # share of seeds that must reach the target


def _run(args: tuple[str, int]) -> tuple[str, int, LessonRun, float]:
    name, seed = args
    card = {c.name: c for c in load_cards()}[name]
    started = time.perf_counter()
    run = run_card(card, seed)
    return name, seed, run, time.perf_counter() - started


def _value(run: LessonRun) -> str:
    v = run.primary()
    if isinstance(v, bool) or v is None:
        return {True: "yes", False: "no", None: "-"}[v]
    return f"{v:.3f}" if v < 10 else f"{v:.0f}"


def _contrast_missed(card: Card, runs: dict[tuple[str, int], LessonRun], seed: int
                     ) -> list[str]:
    if not card.contrast:
        return []
    return card.contrast.missed(runs[card.name, seed].metrics,
                                runs[card.contrast.card, seed].metrics)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cards", nargs="*", help="card files (default: all)")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)
    cards = load_cards()
    by_name = {c.name: c for c in cards}
    wanted = [c for c in cards if not args.cards or c.name in args.cards]
    partners = {c.contrast.card for c in wanted if c.contrast} - {c.name for c in wanted}
    todo: list[Card] = wanted + [by_name[p] for p in sorted(partners)]
    jobs = [(c.name, s) for c in todo for s in range(args.seeds)]
    runs: dict[tuple[str, int], LessonRun] = {}
    seconds: dict[str, float] = {}
    load = os.getloadavg()
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for name, seed, run, took in pool.map(_run, jobs):
            runs[name, seed] = run
            seconds[name] = seconds.get(name, 0.0) + took
    print(f"{'card':28} {'target':50} {'per seed':>6}  lesson quiet    s/seed")
    short = []
    for card in wanted:
        lessons = quiet = 0
        values = []
        for seed in range(args.seeds):
            run = runs[card.name, seed]
            missed = run.lesson_failures() + _contrast_missed(card, runs, seed)
            lessons += not missed
            quiet += not run.stray_alarms()
            values.append(_value(run) + ("*" if missed else "!" if run.stray_alarms() else ""))
        ok = min(lessons, quiet) >= NEEDED * args.seeds
        short += [] if ok else [card.name]
        print(f"{card.name:28} {card.target_text()[:50]:50} {' '.join(values)}  "
              f"{lessons:2d}/{args.seeds} {quiet:2d}/{args.seeds} {'ok' if ok else 'SHORT'}  "
              f"{seconds[card.name] / args.seeds:5.1f}")
        for seed in range(args.seeds):
            run = runs[card.name, seed]
            fails = run.failures() + _contrast_missed(card, runs, seed)
            if fails:
                print(f"{'':28}   seed {seed}: {'; '.join(fails)}")
    print(f"* misses the lesson at that seed; ! teaches it, with another alarm on the way. {len(jobs)} runs in "
          f"{time.perf_counter() - started:.0f} s, --jobs {args.jobs}; load average at the "
          f"start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, at the end "
          f"{os.getloadavg()[0]:.2f}")
    if short:
        print("short of 9/10:", ", ".join(short))
    return 1 if short else 0


if __name__ == "__main__":
    sys.exit(main())
