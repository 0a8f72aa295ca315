"""Secret detection: kinds, exact spans, overlap resolution, named values, entropy."""

from __future__ import annotations

import pytest

from assay.pipeline.redact import find_secrets
from assay.pipeline.redact.detect import line_column
from assay.pipeline.redact.named import name_words, random_looking, shannon_entropy

GHP = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"


def _kinds(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.value) for f in find_secrets(text)]


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("key = AKIAIOSFODNN7EXAMPLE\n", "aws_access_key_id", "AKIAIOSFODNN7EXAMPLE"),
    ("glrt-abcdefghij0123456789XYZ runs", "gitlab_token", "glrt-abcdefghij0123456789XYZ"),
    ("GR1348941aB3dE5fG7hJ9kL1mN3pQ5r", "gitlab_runner_token", "GR1348941aB3dE5fG7hJ9kL1mN3pQ5r"),
    ("xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx", "slack_token",
     "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"),
    ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe_key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("AccountName=a;AccountKey=Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5;EndpointSuffix=x",
     "azure_storage_key", "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"),
    ("postgres://app:Pa55w0rd@db:5432/app", "connection_string_password", "Pa55w0rd"),
    ('password = "hunter22"', "password", "hunter22"),
    ("DB_PASSWORD=supersecret", "password", "supersecret"),
    ('api_key: "q7Wm2Lk9Xz4Rt8Vb3Nc6Jh1P"', "secret_assignment", "q7Wm2Lk9Xz4Rt8Vb3Nc6Jh1P"),
    ("Authorization: Bearer abcDEF123ghiJKL456mno", "auth_header", "abcDEF123ghiJKL456mno"),
])
def test_each_kind_is_found_with_its_exact_span(text: str, kind: str, value: str) -> None:
    [finding] = find_secrets(text)
    assert (finding.kind, finding.value) == (kind, value)
    assert text[finding.start:finding.end] == value


def test_a_shaped_token_beats_the_named_rule_for_the_same_span() -> None:
    assert _kinds(f'GITHUB_TOKEN = "{GHP}"') == [("github_token", GHP)]


def test_a_pem_block_is_one_finding_even_with_secret_looking_lines_inside() -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\npassword = x1y2z3w4\n-----END RSA PRIVATE KEY-----"
    assert _kinds(f"before\n{pem}\nafter") == [("private_key", pem)]


def test_an_unterminated_private_key_is_redacted_to_the_end_of_its_body() -> None:
    text = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nMIIEvQIBADANBgkq"
    [finding] = find_secrets(text)
    assert finding.kind == "private_key" and finding.end == len(text)


def test_public_keys_certificates_and_publishable_keys_are_not_secrets() -> None:
    text = ("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"
            "STRIPE_PUBLISHABLE_KEY=pk_live_51HqLyjWDarjtT1zdp7dcAbC\n")
    assert _kinds(text) == []


@pytest.mark.parametrize("text", [
    'password = os.environ["DB_PASSWORD"]', "password: ${DB_PASSWORD}", "password = None", "password = pw",
    'password = "<your-password>"', 'password: "{{ vault_pw }}"', "password = getpass()", 'password = "****"',
    "PASSWORD_RESET_TIMEOUT = 259200", "password: str", "if password == other:",
])
def test_references_to_passwords_are_not_passwords(text: str) -> None:
    assert _kinds(text) == []


@pytest.mark.parametrize("text", [
    'sort_key = "created_at"', 'key_path = "/etc/ssl/private/k.pem"', 'i18nKey: "dashboard.welcomeMessage"',
    'request_id = "a8f5f167f44f4964e6c998dee827110c"', 'public_key = "q7Wm2Lk9Xz4Rt8Vb3Nc6Jh1P"',
    'TOKEN_URL = "https://oauth2.example.com/token"',
])
def test_secret_words_with_values_that_are_not_secrets(text: str) -> None:
    assert _kinds(text) == []


@pytest.mark.parametrize("text", [
    "pass_threshold: float", "# Pre-pass: find inputs of waiting nodes", "_DISABLE_PASS = orig_val",
    '"PasswordData": password_data,', "STL(endog, period=period, low_pass=19.0)", "file_secret_settings: Source,",
    "EMRFS_CSE_KEY = 'fs.s3.cse.enabled'", 'pw = " ...\\n".join(pairs)', 'PUBLIC_KEY_OR_PASSWORD = "PUBLIC_KEY_OR_PASSWORD"',
    'password_last_used = "not_supported"', 'WaitForTaskToken = "waitForTaskToken"',
    "doc = \"has '-----BEGIN RSA PRIVATE KEY-----' and '-----END RSA PRIVATE KEY-----' markers\"",
    "resource[property_key] = s3_uri_value", "password: {auth_token}", 'password = ":****"',
])
def test_code_found_in_real_libraries_is_not_a_secret(text: str) -> None:
    assert _kinds(text) == []


def test_entropy_and_random_looking() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == pytest.approx(2.0)
    assert random_looking("q7Wm2Lk9Xz4Rt8Vb3Nc6")
    assert random_looking("qWmLkXzRtVbNcJhPdGsFaQwE")
    assert not random_looking("welcomeMessageText")
    assert not random_looking("short1")
    assert not random_looking("has space 123456789")


def test_name_words_split_snake_camel_and_kebab_case() -> None:
    assert name_words("AWS_SECRET_ACCESS_KEY") == ["aws", "secret", "access", "key"]
    assert name_words("clientSecret") == ["client", "secret"]
    assert name_words("x-api-key") == ["x", "api", "key"]


def test_line_column_is_one_based() -> None:
    text = "a\nbc\ndef"
    assert line_column(text, 0) == (1, 1)
    assert line_column(text, 3) == (2, 2)
    assert line_column(text, 7) == (3, 3)
