"""torch's global generator: seeded per block, restored after it, one block at a time."""

import threading

import torch

from skhpmkd.seeding import torch_seeded


def draws(seed, n=200):
    """``n`` numbers drawn one at a time in a seeded block, letting other threads run
    between draws."""
    values = []
    with torch_seeded(seed):
        for _ in range(n):
            values.append(float(torch.rand(1)))
            threading.Event().wait(0.0005)
    return values


def test_seeded_blocks_in_threads_draw_what_they_draw_alone():
    alone = {seed: draws(seed) for seed in (1, 2, 3)}
    torch.manual_seed(123)
    state = torch.get_rng_state().clone()
    found = {}
    threads = [threading.Thread(target=lambda s=seed: found.__setitem__(s, draws(s)))
               for seed in alone]
    for thread in threads:
        thread.start()
    for _ in range(100):  # an unseeded draw between theirs waits for them too
        with torch_seeded():
            torch.rand(1)
    for thread in threads:
        thread.join()
    assert found == alone
    assert torch.equal(torch.get_rng_state(), state)


def test_an_unseeded_block_keeps_the_generator_as_it_was():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    with torch_seeded():
        torch.rand(10)
    assert torch.equal(torch.rand(3), expected)
