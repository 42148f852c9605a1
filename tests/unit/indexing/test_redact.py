"""Redaction of credentials inside indexed text: what goes, what stays, counts and line numbers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexing.redact import REDACTED, redact

from .helpers import src

AWS = "AKIAIOSFODNN7EXAMPLE"
GITHUB = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
GITHUB_PAT = "github_pat_11ABCDEFG0" + "x1Y2z3" * 8
SLACK = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
ANTHROPIC = "sk-ant-api03-" + "Zx9_Kq2-Lm8Pn4Rt6Vw1" * 3
OPENAI = "sk-proj-" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv"
OPENAI_OLD = "sk-" + "T3BlbkFJ" + "q" * 40
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwicm9sZSI6Im9yZ19hZG1pbiJ9"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f'AWS_ACCESS_KEY_ID = "{AWS}"', AWS),
        (f"aws key in prose: {AWS} (rotated)", AWS),
        (f"export GH_TOKEN={GITHUB}", GITHUB),
        (f"token: {GITHUB_PAT}", GITHUB_PAT),
        (f"SLACK_WEBHOOK_TOKEN = '{SLACK}'", SLACK),
        (f"client = Anthropic(api_key='{ANTHROPIC}')", ANTHROPIC),
        (f"OPENAI_API_KEY={OPENAI}", OPENAI),
        (f"openai.api_key = '{OPENAI_OLD}'", OPENAI_OLD),
        (f"Authorization: Bearer {JWT}", JWT),
    ],
)
def test_known_token_formats_are_replaced(line: str, secret: str) -> None:
    result = redact(line)
    assert secret not in result.text
    assert REDACTED in result.text
    assert result.count == 1


def test_token_replacement_keeps_the_rest_of_the_line() -> None:
    assert redact(f"aws key in prose: {AWS} (rotated)").text == f"aws key in prose: {REDACTED} (rotated)"
    assert redact(f"Authorization: Bearer {JWT}").text == f"Authorization: Bearer {REDACTED}"


def test_private_key_block_keeps_the_line_count() -> None:
    text = src(
        """
        KEY = '''
        -----BEGIN RSA PRIVATE KEY-----
        MIIEpAIBAAKCAQEA1c7+9z5Pad7OejecsQ0bu3aumjGBtuqbCs0cDkq5dJv5rs6a
        JRKiVSa/wBSb1mmZsH1x1TcIfX1p9ufCkTTHjEQZ3Ua5Lf+8QZX0fLK3zqYrAg==
        -----END RSA PRIVATE KEY-----
        '''
        after = 1
        """
    )
    result = redact(text)
    assert result.count == 1
    assert "MIIEpAIBAAKCAQEA" not in result.text
    assert len(result.text.splitlines()) == len(text.splitlines())
    assert result.text.splitlines()[1] == REDACTED
    assert result.text.splitlines()[-1] == "after = 1"
    two = redact("-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----\n" * 2)
    assert two.count == 2
    assert two.text == f"{REDACTED}\n\n\n" * 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'DATABASE_URL = "postgresql://app:s3cretPass@db.internal:5432/platform"',
            f'DATABASE_URL = "postgresql://app:{REDACTED}@db.internal:5432/platform"',
        ),
        ("redis://default:Zx9Kq2Lm8@cache:6379/0", f"redis://default:{REDACTED}@cache:6379/0"),
        ("amqp://guest:guestpass@rabbit/", f"amqp://guest:{REDACTED}@rabbit/"),
        ("postgresql://app:p@ss@db/platform", f"postgresql://app:{REDACTED}@db/platform"),
        ("DB_URL=mysql://root:Pa$$w0rd!@db:3306/app", f"DB_URL=mysql://root:{REDACTED}@db:3306/app"),
    ],
)
def test_url_credentials(text: str, expected: str) -> None:
    result = redact(text)
    assert (result.text, result.count) == (expected, 1)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        # Python
        ('DB_PASSWORD = "Tr0ub4dor&3"', "Tr0ub4dor&3"),
        ("    self.api_key = 'q8Zk2Lm9Pn4Rt6Vw'", "q8Zk2Lm9Pn4Rt6Vw"),
        ('connect(host="db", password="hunter2hunter2")', "hunter2hunter2"),
        ('access_token = "abcdefABCDEF123456"', "abcdefABCDEF123456"),
        # YAML, plain and quoted
        ("password: hunter2secret", "hunter2secret"),
        ('  db_password: "hunter2secret"', "hunter2secret"),
        ("  - client_secret: 9f8e7d6c5b4a", "9f8e7d6c5b4a"),
        ("auth_token: Zx9Kq2Lm8Pn4Rt6Vw1", "Zx9Kq2Lm8Pn4Rt6Vw1"),
        # JSON
        ('{"password": "hunter2secret", "user": "app"}', "hunter2secret"),
        ('  "apiKey": "Zx9Kq2Lm8Pn4Rt6Vw1",', "Zx9Kq2Lm8Pn4Rt6Vw1"),
        # INI / properties / dotenv lines inside docs
        ("password = s3cr3t!value", "s3cr3t!value"),
        ("PASSWORD=hunter2secret", "hunter2secret"),
        ("secret_key = supersecretvalue1", "supersecretvalue1"),
        # secrets that merely start like a placeholder word are still secrets
        ('password = "Str0ngP@ss!"', "Str0ngP@ss!"),
        ("DB_PASSWORD: Test1234!", "Test1234!"),
        ('password = "truelove99"', "truelove99"),
        # quotes, '#' and '@' inside the secret, comments after it
        ("password: Xk9#mP2$vL", "Xk9#mP2$vL"),
        ('  "password": "abc\\"def123",', 'abc\\"def123'),
        ('password = "it\'s-a-secret-1"', "it's-a-secret-1"),
        ("password = 's3cr\"et!value'", 's3cr"et!value'),
    ],
)
def test_secret_assignments_are_redacted(text: str, secret: str) -> None:
    result = redact(text)
    assert secret not in result.text, result.text
    assert result.text == text.replace(secret, REDACTED)
    assert result.count == 1


def test_a_comment_after_a_yaml_secret_is_kept() -> None:
    result = redact("database:\n  password: Xk9mP2vL  # rotated monthly\n")
    assert (result.text, result.count) == (f"database:\n  password: {REDACTED}  # rotated monthly\n", 1)


def test_ini_file_with_a_database_section() -> None:
    text = src(
        """
        [database]
        host = db.internal
        user = platform
        password = Xk9#mP2$vL
        port = 5432
        """
    )
    result = redact(text)
    assert result.count == 1
    assert result.text == text.replace("Xk9#mP2$vL", REDACTED)


@pytest.mark.parametrize(
    "text",
    [
        "password: str",
        "    password: str = Field(..., min_length=12)",
        "def check_password(password: str) -> bool:",
        'password = os.getenv("DB_PASSWORD")',
        'password = os.environ["DB_PASSWORD"]',
        "password: ${DB_PASSWORD}",
        'password = "${DB_PASSWORD}"',
        "DB_PASSWORD: {{ vault_db_password }}",
        'token_type = "bearer"',
        'token = "reset"',
        'api_key = "changeme"',
        'api_key = "your-api-key-here"',
        "password: <your password>",
        'secret = "secret"',
        "password = None",
        "    password = form.password.data",
        "    password = request_password",
        "postgresql://app:${DB_PASSWORD}@db/platform",
        "The password must be at least 12 characters long.",
        "Rotate the API key every 90 days; tokens expire after 1 hour.",
        "reset_password_token_ttl: 3600",
        "const apiKey = process.env.API_KEY;",
        'password = f"{prefix}-{suffix}"',
    ],
)
def test_code_and_prose_about_secrets_stay_searchable(text: str) -> None:
    result = redact(text)
    assert (result.text, result.count) == (text, 0)


def test_counts_add_up_over_a_file_and_lines_never_move() -> None:
    text = src(
        f"""
        # settings for local development
        DATABASE_URL = "postgresql://app:s3cretPass@localhost/app"
        AWS_ACCESS_KEY_ID = "{AWS}"
        SLACK_TOKEN = "{SLACK}"
        password = os.getenv("DB_PASSWORD")
        both = "{AWS} {GITHUB}"
        """
    )
    result = redact(text)
    assert result.count == 5
    before, after = text.split("\n"), result.text.split("\n")
    assert len(before) == len(after)
    assert after[0] == before[0]
    assert after[4] == before[4]
    assert after[5] == f'both = "{REDACTED} {REDACTED}"'
    for secret in ("s3cretPass", AWS, SLACK, GITHUB):
        assert secret not in result.text


def test_redaction_is_idempotent() -> None:
    text = f'password = "hunter2hunter2"\nkey = "{AWS}"\nurl = "https://u:p4ssw0rd@h/"\n'
    once = redact(text)
    twice = redact(once.text)
    assert once.count == 3
    assert (twice.text, twice.count) == (once.text, 0)


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(blacklist_categories=["Cs"]), max_size=400))
def test_any_text_keeps_its_line_count(text: str) -> None:
    result = redact(text)
    assert result.text.count("\n") == text.count("\n")
    assert result.count >= 0
    if result.count == 0:
        assert result.text == text


# Issue 11: shapes that were indexed verbatim. Assignments of secret-named variables are redacted
# in every file kind whatever the value's length; keys are recognised by their prefixes.
@pytest.mark.parametrize(
    ("kind", "text", "secret"),
    [
        ("text", "ENV DB_PASSWORD=pg4u", "pg4u"),
        ("text", "ENV DB_PASSWORD pg4u", "pg4u"),
        ("text", "ARG NPM_TOKEN=a1b2", "a1b2"),
        ("text", "RUN mysql --password=x7 -e 'select 1'", "x7"),
        ("yaml", "      - POSTGRES_PASSWORD=pw", "pw"),
        ("yaml", "      POSTGRES_PASSWORD: pw", "pw"),
        ("yaml", '      MYSQL_ROOT_PASSWORD: "r00t"', "r00t"),
        ("yaml", "  password: 1234", "1234"),
        ("markdown", "export API_KEY=sk-live-4f9a", "sk-live-4f9a"),
        ("markdown", "    export GITHUB_TOKEN=ghp_Zq81x", "ghp_Zq81x"),
        ("markdown", "docker run -e REDIS_PASS=abc my/image", "abc"),
        ("shell", 'export SECRET_KEY="k9"', "k9"),
        ("shell", "DB_PASS=hunter", "hunter"),
        ("ini", "password = pw", "pw"),
        ("toml", 'api_key = "k1"', "k1"),
        ("json", '  "password": "pw1",', "pw1"),
        ("sql", "CREATE USER app WITH PASSWORD 'pw5';", "pw5"),
        ("sql", "ALTER ROLE app PASSWORD 'abc';", "abc"),
        ("python", 'DB_PASSWORD = "abc"', "abc"),
        ("python", "conn = connect(password='p4')", "p4"),
        ("typescript", "const apiKey = 'k-12';", "k-12"),
        ("html", '<input type="hidden" name="csrf" value="x"> API_KEY=zz9', "zz9"),
        # keys by their prefix, short or long, in prose or code
        ("markdown", "use sk-live-abc123 for the demo", "sk-live-abc123"),
        ("markdown", "stripe: sk_live_51Hx9", "sk_live_51Hx9"),
        ("markdown", "test key sk_test_4eC39Hq", "sk_test_4eC39Hq"),
        ("markdown", "openai sk-Ab12Cd34Ef56Gh78Ij90Kl", "sk-Ab12Cd34Ef56Gh78Ij90Kl"),
        ("markdown", "the token ghp_8sK2mQ is revoked", "ghp_8sK2mQ"),
        ("markdown", "gitlab glpat-Xy12Zw34Ab56", "glpat-Xy12Zw34Ab56"),
        ("markdown", "bot xoxb-12345-abcde", "xoxb-12345-abcde"),
        ("markdown", "maps AIzaSyA1b2C3d4E5f6", "AIzaSyA1b2C3d4E5f6"),
        ("markdown", "hf hf_AbCdEfGhIjKlMnOpQrStUvWxYz123456", "hf_AbCdEfGhIjKlMnOpQrStUvWxYz123456"),
        (
            "markdown",
            "sendgrid SG.abcdefghijklmnop.ABCDEFGHIJKLMNOPqrst",
            "SG.abcdefghijklmnop.ABCDEFGHIJKLMNOPqrst",
        ),
        ("markdown", "jwt eyJhbGciOi.eyJzdWIi.c2lnbmF0", "eyJhbGciOi.eyJzdWIi.c2lnbmF0"),
        # short tails the campaign found indexed: a digit makes them keys
        ("markdown", "maps key AIzaCUip5K here", "AIzaCUip5K"),
        ("markdown", "pat github_pat_y7IVt9", "github_pat_y7IVt9"),
        ("markdown", "gitlab glpat-zc1DLT", "glpat-zc1DLT"),
        ("markdown", "hugging face hf_WKx1kl", "hf_WKx1kl"),
        ("markdown", "slack app xapp-HTT17m", "xapp-HTT17m"),
    ],
)
def test_issue_11_secret_shapes_are_redacted(kind: str, text: str, secret: str) -> None:
    result = redact(text, kind)
    assert secret not in result.text, result.text
    assert result.count >= 1
    assert REDACTED in result.text


def test_a_pgp_private_key_block_is_redacted() -> None:
    text = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF0abc\n=x1Yz\n-----END PGP PRIVATE KEY BLOCK-----\nafter\n"
    result = redact(text, "markdown")
    assert "lQOYBF0abc" not in result.text
    assert result.text.count("\n") == text.count("\n")
    assert result.text.endswith("after\n")


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("python", "login(user, password=password)"),
        ("python", "client = Client(api_key=api_key, token=tok)"),
        ("python", "    password: SecretStr"),
        ("python", "    password = pw"),
        ("python", "def set_password(self, password: str) -> None:"),
        ("typescript", "const token = await getToken(password);"),
        ("yaml", "password_min_length: 8"),
        ("yaml", "token_ttl_seconds: 3600"),
        ("yaml", "reset_password_url: /account/reset"),
        ("yaml", "      - POSTGRES_PASSWORD=${POSTGRES_PASSWORD}"),
        ("yaml", "      - POSTGRES_PASSWORD_FILE=/run/secrets/db_password"),
        ("text", "ENV DB_PASSWORD=$DB_PASSWORD"),
        ("markdown", "Set `API_KEY=<your key>` in the environment."),
        ("markdown", "export API_KEY=..."),
        ("markdown", "task-list and desk-lamp are not keys; neither is skim-reading"),
        ("python", "from huggingface_hub import hf_hub_download"),
        ("markdown", "the xapp-config file and the AIzaRules page"),
        ("sql", "-- the password column holds a bcrypt hash"),
        ("json", '  "password": "",'),
        ("markdown", "the password is at least 12 characters"),
    ],
)
def test_names_and_placeholders_are_not_secrets(kind: str, text: str) -> None:
    result = redact(text, kind)
    assert (result.text, result.count) == (text, 0)
