"""Planning with the world model: success rate on the push task over held-out episodes.

Each episode (a seed never used for training data: the pusher data uses 300.. and 9100..)
is a resting cube, a pusher beside it and a goal 15-25 cm away on the cube's far side. The
policies, on the same episodes:
- mpc: CEM over the next chunk's (right, forward) velocity, every plan rolled out by the
  action-conditioned world model from the latest 5 real frames and scored by where the
  colour locator finds the cube in the last predicted frame;
- simulator: the same planner with the simulator as its model (same CEM, rendering and
  locator): what MPC would reach with a perfect world model;
- random: random moves drawn like the training data's;
- oracle: a script that reads the true state (line up behind the cube, push, steer).
An episode succeeds when the cube ends within 8 cm of the goal after 10 chunks (2.5 s);
one whose chunk makes the simulator blow up (a body driven into another) stops there and
fails, and is counted.
Printed: success rate, mean final distance and seconds per episode for each policy, then
the issue's check (mpc against random and oracle).

    python benchmarks/mpc_push.py [--episodes 50] [--samples 8] [--iterations 2] [--horizon 1] [--model NAME]
                                  [--json]
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from worldgraph.engines.plan.mpc import CEMSettings
from worldgraph.engines.plan.push import episode
from worldgraph.engines.plan.run import POLICIES, run_episode
from worldgraph.engines.post.action_api import DEFAULT, load_action_model

FIRST_SEED = 50_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--horizon", type=int, default=1)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=2)
    parser.add_argument("--sampler-steps", type=int, default=4)
    parser.add_argument("--policies", default=",".join(POLICIES))
    parser.add_argument("--model", default=DEFAULT, help="the action-conditioned world model mpc plans with")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = CEMSettings(horizon=args.horizon, samples=args.samples, iterations=args.iterations,
                           elites=max(1, args.samples // 3), sampler_steps=args.sampler_steps)
    policies = args.policies.split(",")
    model = load_action_model(args.model) if "mpc" in policies else None
    rows = {}
    for policy in policies:
        outcomes = []
        for i in range(args.episodes):
            outcomes.append(run_episode(episode(FIRST_SEED + i), policy, model, settings))
            print(f"{policy}: episode {i + 1}/{args.episodes}, {sum(o.success for o in outcomes)} successes",
                  file=sys.stderr, flush=True)
        rows[policy] = {"success_rate": float(np.mean([o.success for o in outcomes])),
                        "mean_distance": float(np.mean([o.distance for o in outcomes])),
                        "start_distance": float(np.mean([o.start_distance for o in outcomes])),
                        "seconds_per_episode": float(np.mean([o.seconds for o in outcomes])),
                        "diverged": int(sum(o.diverged for o in outcomes))}
    result = {"episodes": args.episodes, "settings": vars(args), "policies": rows}
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"push task, {args.episodes} held-out episodes (seeds {FIRST_SEED}..), success = within 8 cm after 10 chunks")
    print(f"{'policy':<8}{'success':>10}{'final dist':>12}{'start dist':>12}{'s/episode':>11}{'sim blew up':>13}")
    for policy, row in rows.items():
        print(f"{policy:<8}{row['success_rate']:>10.0%}{row['mean_distance']:>12.3f}{row['start_distance']:>12.3f}"
              f"{row['seconds_per_episode']:>11.1f}{row['diverged']:>13}")
    if "mpc" in rows:
        for other in ("simulator", "random", "oracle"):
            if other in rows:
                print(f"mpc vs {other}: {rows['mpc']['success_rate']:.0%} vs {rows[other]['success_rate']:.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
