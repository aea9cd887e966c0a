"""The autoregressive world model: KV cache, sampling, test-time scaling, training,
checkpoints, bad input, evaluation."""

import json
from dataclasses import replace

import pytest
import torch

from worldgraph.engines.ar import api
from worldgraph.engines.ar.data import build_cache, load_cache
from worldgraph.engines.ar.evaluate import evaluate
from worldgraph.engines.ar.model import PRESETS, KVCache, VideoGPT, shifted
from worldgraph.engines.ar.sample import ARInputError, ARSampling, continue_tokens, top_p_filter
from worldgraph.engines.ar.train import AutoRegressive
from worldgraph.engines.sim.dataset import ClipJobs, SceneSet, write_dataset
from worldgraph.engines.sim.pipeline import ClipSettings
from worldgraph.engines.sim.randomize import RandomizeConfig
from worldgraph.engines.training import Launch, export, train
from worldgraph.engines.weights import CheckpointError


def random_gpt(**changes) -> VideoGPT:
    torch.manual_seed(0)
    net = VideoGPT(replace(PRESETS["tiny-ar"], **changes))
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return net.eval()


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("ardata")
    write_dataset(ClipJobs(SceneSet(randomize=RandomizeConfig(), seed=31, count=2), ClipSettings(frames=17)),
                  root, workers=1)
    return root


@pytest.fixture(scope="module")
def tiny_model(clips, tmp_path_factory):
    run = tmp_path_factory.mktemp("arrun")
    train(AutoRegressive, "tiny-ar", clips, run, Launch(steps=2))
    train(AutoRegressive, "tiny-ar", clips, run, Launch(steps=4))  # resumes at step 2
    state = json.loads((run / "last.json").read_text())
    assert state["step"] == 4 and len(state["losses"]) == 4
    shipped = export(AutoRegressive, run / "last", tmp_path_factory.mktemp("arckpt"))[0]
    return api.load(str(shipped.with_suffix(".json")))


def test_kv_cached_decoding_gives_the_logits_of_a_full_pass():
    net = random_gpt()
    tokens = torch.randint(0, 1000, (2, 3 * 64))
    text, mask = torch.randn(2, 5, 384), torch.ones(2, 5, dtype=torch.bool)
    mask[1, 3:] = False
    with torch.no_grad():
        full = net(shifted(tokens), text=text, text_mask=mask)
        cache = KVCache()
        parts = [net(shifted(tokens)[:, :70], 0, text, mask, cache)]
        parts += [net(shifted(tokens)[:, i : i + 1], i, text, mask, cache) for i in range(70, 75)]
        parts.append(net(shifted(tokens)[:, 75:], 75, text, mask, cache))
    assert cache.length == 3 * 64
    torch.testing.assert_close(torch.cat(parts, 1), full, atol=1e-4, rtol=1e-4)


def test_a_token_sees_only_the_tokens_before_it():
    net = random_gpt()
    tokens = torch.randint(0, 1000, (1, 128))
    other = tokens.clone()
    other[0, 100:] = (other[0, 100:] + 1) % 1000
    with torch.no_grad():
        a, b = net(shifted(tokens)), net(shifted(other))
    torch.testing.assert_close(a[:, :101], b[:, :101])  # slot 100 predicts token 100 from tokens < 100
    assert not torch.allclose(a[:, 101:], b[:, 101:])


def test_top_p_keeps_the_smallest_set_with_that_mass():
    logits = torch.tensor([[0.0, 1.0, 2.0, 3.0]]).log_softmax(-1)  # probs ~ .03 .09 .24 .64
    kept = top_p_filter(logits, 0.8).isfinite()[0].tolist()
    assert kept == [False, False, True, True]
    assert top_p_filter(logits, 0.5).isfinite()[0].tolist() == [False, False, False, True]
    assert top_p_filter(logits, 1.0).isfinite().all()


def test_sampling_is_seeded_keeps_the_given_frames_and_the_cache_changes_nothing():
    net = random_gpt()
    given = torch.randint(0, 1000, (2, 1, 8, 8))
    a = continue_tokens(net, given, 3, ARSampling(seed=3))
    b = continue_tokens(net, given, 3, ARSampling(seed=3), use_cache=False)
    c = continue_tokens(net, given, 3, ARSampling(seed=4))
    assert a.shape == (2, 3, 8, 8) and torch.equal(a[:, :1], given)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_best_of_n_and_beam_search_keep_what_the_verifier_prefers():
    net = random_gpt()
    given = torch.randint(0, 1000, (2, 1, 8, 8))

    def high_ids(tokens, given_frames, loglik):  # prefers clips of large token ids
        return tokens[:, given_frames:].float().mean((1, 2, 3))

    plain = [continue_tokens(net, given, 3, ARSampling(seed=s))[:, 1:].float().mean().item() for s in range(4)]
    best = continue_tokens(net, given, 3, ARSampling(search="best_of_n", candidates=8), verifier=high_ids)
    beam = continue_tokens(net, given, 3, ARSampling(search="beam", candidates=8, beam_width=2), verifier=high_ids)
    assert best.shape == beam.shape == (2, 3, 8, 8)
    assert torch.equal(best[:, :1], given) and torch.equal(beam[:, :1], given)
    assert best[:, 1:].float().mean() > max(plain)
    assert beam[:, 1:].float().mean() > max(plain)


@pytest.mark.parametrize(("settings", "message"), [
    (ARSampling(top_p=0.0), "top_p must be within (0, 1]"),
    (ARSampling(top_p=1.5), "top_p must be within (0, 1]"),
    (ARSampling(temperature=0.0), "temperature must be > 0"),
    (ARSampling(temperature=-1.0), "temperature must be > 0"),
    (ARSampling(search="beam", candidates=6, beam_width=4), "beam_width must divide candidates"),
    (ARSampling(search="greedy"), "unknown search 'greedy'"),
])
def test_bad_sampling_settings_are_named(settings, message):
    with pytest.raises(ARInputError, match=message.replace("(", r"\(").replace("]", r"\]")):
        continue_tokens(random_gpt(), torch.zeros(1, 1, 8, 8, dtype=torch.long), 2, settings)


def test_bad_token_ids_and_too_long_contexts_are_named():
    net = random_gpt()
    with pytest.raises(ARInputError, match=r"token ids must be within 0..999, got 1000..1000"):
        continue_tokens(net, torch.full((1, 1, 8, 8), 1000), 2, ARSampling())
    with pytest.raises(ARInputError, match="the model sees at most 320"):
        continue_tokens(net, torch.zeros(1, 1, 8, 8, dtype=torch.long), 6, ARSampling())
    with pytest.raises(ARInputError, match="nothing left to generate"):
        continue_tokens(net, torch.zeros(1, 2, 8, 8, dtype=torch.long), 2, ARSampling())
    with pytest.raises(ValueError, match="the model sees at most 320"):
        net(torch.zeros(1, 321, dtype=torch.long))


def test_trained_tiny_model_continues_a_clip(tiny_model, clips):
    from worldgraph.engines.media.video import read_video

    record = json.loads((clips / "manifest.jsonl").read_text().splitlines()[0])
    frames, _ = read_video(clips / "clips" / record["id"] / "rgb.mp4")
    given = tiny_model.encode_video(frames[:5])
    assert given.shape == (1, 2, 8, 8)
    ids = tiny_model.generate(["a red ball falls"], given, ARSampling(search="best_of_n", candidates=2), frames=13)
    assert ids.shape == (1, 4, 8, 8) and torch.equal(ids[:, :2], given)
    assert tiny_model.decode(ids).shape == (1, 13, 64, 64, 3)
    with pytest.raises(ARInputError, match="generate 1 \\+ 4k frames"):
        tiny_model.generate([""], given, ARSampling(), frames=12)
    with pytest.raises(ARInputError, match="unknown verifier"):
        tiny_model.generate([""], given, ARSampling(search="best_of_n", candidates=2), verifier="oracle")


def test_the_token_cache_holds_both_mirror_images_and_refuses_another_tokenizer(clips, tmp_path):
    path = build_cache(clips, "dv4x8x8", tmp_path / "tokens.safetensors")
    cache = load_cache(path, "dv4x8x8")
    assert cache["latents"].shape == (4, 2, 5, 8, 8)  # 2 clips x 2 styles, as filmed and mirrored
    assert cache["latents"].dtype == torch.int16 and int(cache["latents"].max()) < 1000
    assert not torch.equal(cache["latents"][:, 0], cache["latents"][:, 1])
    with pytest.raises(ValueError, match="a continuous tokenizer"):
        build_cache(clips, "cv4x8x8", tmp_path / "cv.safetensors")


def test_checkpoint_of_another_tokenizer_is_refused(tiny_model, tmp_path):
    from worldgraph.engines import weights

    net = tiny_model.net
    path = weights.save(net, tmp_path / "bad.safetensors", {"config": net.cfg.to_json(), "token_fingerprint": "x"})
    with pytest.raises(CheckpointError, match="tokens of another dv4x8x8 encoder"):
        api.load(str(path.with_suffix(".json")))


def test_evaluation_puts_both_paradigms_in_one_table(tiny_model, clips):
    from worldgraph.engines.wfm import api as wfm

    table = evaluate(tiny_model, clips, ARSampling(), frames=9, given=(1,), batch=2,
                     diffusion=(wfm.load(), wfm.Sampling(steps=2, guidance=0)))
    for method in ("autoregressive", "diffusion", "copy_first_frame", "dv_reconstruction", "cv_reconstruction",
                   "physical_variance"):
        assert table[method]["clips"]["1"] == 2, method
        assert 0 < table[method]["mse"]["1"] < 1
    assert table["autoregressive"]["seconds_per_clip"] > 0
    assert table["dv_reconstruction"]["mse"]["1"] < table["autoregressive"]["mse"]["1"]
    assert table["settings"]["search"] == "none"


def test_the_forecast_verifier_prefers_motion_where_the_diffusion_model_expects_it(clips):
    from worldgraph.engines.ar.verify import forecast
    from worldgraph.engines.media.video import read_video
    from worldgraph.engines.tokenizer import checkpoint
    from worldgraph.engines.tokenizer.api import frames_to_input
    from worldgraph.engines.wfm import api as wfm

    world, dv = wfm.load(), checkpoint.load("dv4x8x8")
    calls = []
    generate = world.generate

    def counted(*args, **kwargs):
        calls.append(len(args[0]))
        return generate(*args, **kwargs)

    world.generate = counted
    clip = sorted((clips / "clips").iterdir())[0]
    with torch.no_grad():
        truth = dv.tokens(frames_to_input(read_video(clip / "rgb.mp4")[0][:17]))  # a simulated future
    still = truth[:, :1].repeat(1, 5, 1, 1)  # the first frame held: nothing moves
    try:
        score = forecast(world, dv, steps=4)
        scores = score(torch.cat([still, truth, still]), 1, torch.zeros(3))
    finally:
        del world.generate
    assert calls == [1]  # one forecast for the three candidates of the same clip
    assert scores[0] == scores[2] and scores[1] > scores[0]
