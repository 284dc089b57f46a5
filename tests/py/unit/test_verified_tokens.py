"""The gateway's memory of verified tokens answers what a full verification answers: the same
claims while the token is unexpired, and the same refusals otherwise."""

from __future__ import annotations

import time

import pytest

from directorstudio.stack import keys, tokens
from directorstudio.stack.tokens import TokenError, VerifiedTokens

NOW = 1_900_000_000.0


@pytest.fixture(scope="module")
def stack_keys() -> keys.StackKeys:
    return keys.generate()


def _token(stack_keys: keys.StackKeys, user: str, exp: float) -> str:
    claims = {"sub": user, "role": "authenticated", "aud": "authenticated", "exp": int(exp)}
    return tokens.sign_access_token(claims, stack_keys)


def test_a_verified_token_gives_the_same_claims_again(stack_keys: keys.StackKeys) -> None:
    cache = VerifiedTokens()
    token = _token(stack_keys, "u1", NOW + 60)
    first = cache.decode(token, stack_keys, now=NOW)
    assert first == tokens.decode(token, stack_keys, now=NOW)
    first["role"] = "service_role"  # a caller's change does not reach the kept claims
    assert cache.decode(token, stack_keys, now=NOW + 1)["role"] == "authenticated"
    assert len(cache) == 1


def test_a_kept_token_still_expires(stack_keys: keys.StackKeys) -> None:
    cache = VerifiedTokens()
    token = _token(stack_keys, "u1", NOW + 60)
    cache.decode(token, stack_keys, now=NOW)
    with pytest.raises(TokenError) as refused:
        cache.decode(token, stack_keys, now=NOW + 60)
    assert refused.value.expired


def test_a_token_kept_for_other_keys_is_verified_with_the_current_ones(
    stack_keys: keys.StackKeys,
) -> None:
    cache = VerifiedTokens()
    token = _token(stack_keys, "u1", NOW + 60)
    cache.decode(token, stack_keys, now=NOW)
    with pytest.raises(TokenError) as refused:
        cache.decode(token, keys.generate(), now=NOW)
    assert refused.value.reason == "unknown_key"


def test_a_token_kept_for_one_audience_is_checked_for_another(
    stack_keys: keys.StackKeys,
) -> None:
    cache = VerifiedTokens()
    token = _token(stack_keys, "u1", NOW + 60)
    cache.decode(token, stack_keys, now=NOW)
    with pytest.raises(TokenError):
        cache.decode(token, stack_keys, now=NOW, audience="elsewhere")


def test_a_bad_token_is_refused_and_not_kept(stack_keys: keys.StackKeys) -> None:
    cache = VerifiedTokens()
    token = _token(stack_keys, "u1", NOW + 60)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(TokenError):
        cache.decode(tampered, stack_keys, now=NOW)
    assert len(cache) == 0


def test_the_least_recently_used_tokens_are_dropped_beyond_the_size(
    stack_keys: keys.StackKeys,
) -> None:
    cache = VerifiedTokens(size=2)
    first, second, third = (_token(stack_keys, f"u{n}", time.time() + 600) for n in range(3))
    now = time.time()
    for token in (first, second, first, third):
        cache.decode(token, stack_keys, now=now)
    assert len(cache) == 2
    assert (first in cache, second in cache, third in cache) == (True, False, True)
