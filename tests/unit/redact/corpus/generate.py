"""Write the labeled redaction corpus: ``secrets.jsonl`` and ``harmless.jsonl`` beside this script.

Every value is made up here from a fixed seed (``SEED``); none is a real credential. Run
``python tests/unit/redact/corpus/generate.py`` to regenerate; the output is byte-for-byte stable.
Hand-written tricky cases live in ``tricky.py`` and are appended to both files.

``secrets.jsonl`` lines: ``{"id", "kind", "text", "secrets"}`` — every string in ``secrets`` must be
gone from the redacted text. ``harmless.jsonl`` lines: ``{"id", "category", "text"}`` — look-alikes
(UUIDs, git SHAs, lockfile hashes, base64 images, references to secrets, public keys, …) in which
nothing should be found.
"""

from __future__ import annotations

import base64
import json
import random
import string
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tricky import TRICKY_HARMLESS, TRICKY_SECRETS  # noqa: E402

SEED = 20261127
PER_KIND = 12
PER_CATEGORY = 12
R = random.Random(SEED)
UP, LOW, DIG = string.ascii_uppercase, string.ascii_lowercase, string.digits
ALNUM = UP + LOW + DIG
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"


def rand(chars: str, n: int) -> str:
    return "".join(R.choice(chars) for _ in range(n))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pick(*options: str) -> str:
    return R.choice(options)


def ident() -> str:
    return pick("app", "service", "billing", "worker", "api", "deploy", "sync", "report")


def host() -> str:
    return pick("db.internal", "10.0.3.17", "prod-db.example.net", "localhost", "mysql", "cache.local")


def password_value() -> str:
    word = pick("Summer", "hunter", "Dragon", "correct", "Winter", "monkey", "Pass", "admin", "Tr0ub4dor", "qwerty")
    return word + rand(DIG, R.randint(1, 4)) + pick("", "!", "#", "$", "@", "_x")


def pem(label: str) -> str:
    body = "\n".join(rand(B64, 64) for _ in range(R.randint(3, 6))) + "\n" + rand(B64, 20) + "=="
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"


def jwt() -> str:
    header = b64url(json.dumps({"alg": pick("HS256", "RS256"), "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"sub": str(R.randint(1, 99999)), "name": pick("Ada", "Linus", "Grace"),
                                 "iat": R.randint(1_600_000_000, 1_800_000_000)}).encode())
    return f"{header}.{payload}.{rand(URLSAFE, 43)}"


def wrap(secret: str) -> str:
    """A line of code (random language) that holds ``secret`` under a neutral name."""
    name = pick("value", "x", "cfg", "credential_blob", "item")
    return pick(f'{name} = "{secret}"\n', f"const {name} = '{secret}';\n", f"{name}: {secret}\n",
                f'"{name}": "{secret}",\n', f"export {name.upper()}={secret}\n")


SecretGen = Callable[[], tuple[str, list[str]]]


def _aws_key_id() -> tuple[str, list[str]]:
    key = pick("AKIA", "ASIA") + rand(UP + DIG, 16)
    return pick(f"aws_access_key_id = {key}\n", f'client = boto3.client("s3", aws_access_key_id="{key}")\n',
                f"AWS_ACCESS_KEY_ID={key}\n", wrap(key)), [key]


def _aws_secret() -> tuple[str, list[str]]:
    key = rand(B64, 40)
    return pick(f"aws_secret_access_key = {key}\n", f'AWS_SECRET_ACCESS_KEY="{key}"\n',
                f'"SecretAccessKey": "{key}",\n', f"  aws_secret_key: {key}\n"), [key]


def _gcp_api_key() -> tuple[str, list[str]]:
    key = "AIza" + rand(URLSAFE, 35)
    return pick(f'fetch(`https://maps.googleapis.com/maps/api/geocode/json?key={key}`)\n', wrap(key),
                f"GOOGLE_API_KEY={key}\n"), [key]


def _gcp_service_account() -> tuple[str, list[str]]:
    key = pem("PRIVATE KEY")
    escaped = key.replace("\n", "\\n")
    text = ('{\n  "type": "service_account",\n  "project_id": "' + ident() + '-prod",\n'
            f'  "private_key": "{escaped}\\n",\n  "client_email": "ci@{ident()}.iam.gserviceaccount.com"\n}}\n')
    return text, [escaped.split("\\n")[1]]


def _azure_storage() -> tuple[str, list[str]]:
    key = rand(B64, 86) + "=="
    account = ident() + "store"
    return (f'conn = "DefaultEndpointsProtocol=https;AccountName={account};AccountKey={key};'
            f'EndpointSuffix=core.windows.net"\n'), [key]


def _azure_servicebus() -> tuple[str, list[str]]:
    key = rand(B64, 43) + "="
    return (f"Endpoint=sb://{ident()}.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;"
            f"SharedAccessKey={key}\n"), [key]


def _azure_client_secret() -> tuple[str, list[str]]:
    key = rand(ALNUM, 3) + str(R.randint(0, 9)) + "Q~" + rand(ALNUM + "_~.-", 34)
    return pick(f"AZURE_CLIENT_SECRET={key}\n", f'credential = ClientSecretCredential(tenant, client, "{key}")\n',
                wrap(key)), [key]


def _gitlab() -> tuple[str, list[str]]:
    prefix = pick("glpat-", "gldt-", "glrt-", "glptt-", "glft-", "GR1348941")
    key = prefix + rand(URLSAFE, 20 if prefix != "glptt-" else 40)
    return pick(f'curl --header "PRIVATE-TOKEN: {key}" https://gitlab.example.com/api/v4/projects\n',
                f"GITLAB_TOKEN={key}\n", f"  token: {key}\n", wrap(key)), [key]


def _github() -> tuple[str, list[str]]:
    if R.random() < 0.2:
        key = "github_pat_" + rand(ALNUM, 22) + "_" + rand(ALNUM, 59)
    else:
        key = pick("ghp_", "gho_", "ghu_", "ghs_", "ghr_") + rand(ALNUM, 36)
    return pick(f"git clone https://{key}@github.com/{ident()}/repo.git\n", f"GITHUB_TOKEN={key}\n",
                f'headers = {{"Authorization": "token {key}"}}\n', wrap(key)), [key]


def _slack() -> tuple[str, list[str]]:
    if R.random() < 0.35:
        url = f"https://hooks.slack.com/services/T{rand(UP + DIG, 8)}/B{rand(UP + DIG, 8)}/{rand(ALNUM, 24)}"
        return pick(f'SLACK_WEBHOOK_URL="{url}"\n', f'requests.post("{url}", json=payload)\n'), [url]
    key = pick("xoxb-", "xoxp-", "xoxa-", "xoxs-") + f"{R.randint(10**10, 10**12)}-{R.randint(10**10, 10**12)}-{rand(ALNUM, 24)}"
    return pick(f"SLACK_BOT_TOKEN={key}\n", f'client = WebClient(token="{key}")\n', wrap(key)), [key]


def _stripe() -> tuple[str, list[str]]:
    key = pick("sk_live_", "sk_test_", "rk_live_") + rand(ALNUM, R.randint(24, 99))
    if R.random() < 0.2:
        key = "whsec_" + rand(ALNUM, 32)
    return pick(f'stripe.api_key = "{key}"\n', f"STRIPE_SECRET_KEY={key}\n", wrap(key)), [key]


def _private_key() -> tuple[str, list[str]]:
    label = pick("RSA PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "PRIVATE KEY", "DSA PRIVATE KEY")
    key = pem(label)
    body = key.splitlines()[1]
    return pick(f"{key}\n", f'KEY = """{key}"""\n', "tls:\n  key: |\n    " + key.replace("\n", "\n    ") + "\n"), [body]


def _jwt() -> tuple[str, list[str]]:
    token = jwt()
    return pick(f'headers = {{"Authorization": "Bearer {token}"}}\n', f"const session = '{token}';\n",
                f"Cookie: session={token}\n", wrap(token)), [token]


def _password_config() -> tuple[str, list[str]]:
    pw = password_value()
    text = pick(f'password = "{pw}"\n', f"  password: {pw}\n", f"DB_PASSWORD={pw}\n", f"PASSWORD: '{pw}'\n",
                f"spring.datasource.password={pw}\n", f"      POSTGRES_PASSWORD: {pw}\n",
                f"<password>{pw}</password>\n", f"conn = psycopg2.connect(host=h, user=u, password='{pw}')\n",
                f'const dbPassword: string = "{pw}";\n', f'\tPassword: "{pw}",\n', f"export MYSQL_ROOT_PASSWORD={pw}\n",
                f'$config["db_pass"] = "{pw}";\n', f"[database]\nuser = {ident()}\npasswd = {pw}\n",
                f'"password": "{pw}"\n', f"PGPASSWORD={pw} psql -h {host()} -U admin\n")
    return text, [pw]


def _connection_string() -> tuple[str, list[str]]:
    pw = password_value().replace("@", "%40").replace("#", "%23")
    scheme = pick("postgres", "postgresql", "mysql", "mongodb+srv", "redis", "amqp", "mssql")
    url = f"{scheme}://{pick('admin', 'app', 'root', 'svc_' + ident())}:{pw}@{host()}:{R.randint(1000, 9999)}/{ident()}"
    return pick(f'DATABASE_URL="{url}"\n', f"engine = create_engine('{url}')\n", f"  url: {url}\n",
                f"redis_url = {url}\n"), [pw]


def _named_high_entropy() -> tuple[str, list[str]]:
    value = pick(rand(ALNUM, R.randint(24, 50)), rand(HEX, 32), rand(HEX, 64), rand(URLSAFE, 40),
                 base64.b64encode(R.randbytes(32)).decode())
    name = pick("SECRET_KEY", "api_key", "clientSecret", "auth_token", "ENCRYPTION_KEY", "webhookSecret",
                "signing_key", "APP_SECRET", "accessToken", "JWT_SECRET", "x-api-key", "refresh_token", "apiKey")
    text = pick(f'{name} = "{value}"\n', f"{name}: {value}\n", f"{name.upper().replace('-', '_')}={value}\n",
                f'"{name}": "{value}",\n', f"  {name}: '{value}'\n", f"config.{name} = '{value}';\n")
    return text, [value]


def _bearer() -> tuple[str, list[str]]:
    token = rand(ALNUM + "-_.", R.randint(24, 60))
    return pick(f'curl -H "Authorization: Bearer {token}" https://api.example.com/v1/items\n',
                f"Authorization: Bearer {token}\n", f'req.headers["Authorization"] = "Bearer {token}"\n'), [token]


def _vendor_tokens() -> tuple[str, list[str]]:
    key = pick("sk-proj-" + rand(URLSAFE, 48), "sk-ant-api03-" + rand(URLSAFE, 93), "npm_" + rand(ALNUM, 36),
               "pypi-AgEIcHlwaS5vcmc" + rand(URLSAFE, 60), "SG." + rand(URLSAFE, 22) + "." + rand(URLSAFE, 43),
               "GOCSPX-" + rand(URLSAFE, 28), "ya29." + rand(URLSAFE, 60))
    return pick(f"//registry.npmjs.org/:_authToken={key}\n", f"OPENAI_API_KEY={key}\n", wrap(key),
                f'client = Client(api_key="{key}")\n'), [key]


SECRET_GENERATORS: dict[str, SecretGen] = {
    "aws_access_key_id": _aws_key_id, "aws_secret_access_key": _aws_secret, "gcp_api_key": _gcp_api_key,
    "gcp_service_account": _gcp_service_account, "azure_storage_key": _azure_storage,
    "azure_servicebus_key": _azure_servicebus, "azure_client_secret": _azure_client_secret, "gitlab_token": _gitlab,
    "github_token": _github, "slack": _slack, "stripe_key": _stripe, "private_key": _private_key, "jwt": _jwt,
    "password": _password_config, "connection_string_password": _connection_string,
    "named_high_entropy": _named_high_entropy, "bearer_token": _bearer, "vendor_token": _vendor_tokens,
}


HarmlessGen = Callable[[], str]

HARMLESS_GENERATORS: dict[str, HarmlessGen] = {
    "uuid": lambda: pick(f'request_id = "{R.randbytes(16).hex()[:8]}-{R.randbytes(2).hex()}-4{R.randbytes(2).hex()[1:]}-'
                         f'a{R.randbytes(2).hex()[1:]}-{R.randbytes(6).hex()}"\n',
                         f"  correlationId: {R.randbytes(4).hex()}-{R.randbytes(2).hex()}-{R.randbytes(2).hex()}-"
                         f"{R.randbytes(2).hex()}-{R.randbytes(6).hex()}\n"),
    "git_sha": lambda: pick(f'commit = "{rand(HEX, 40)}"\n', f"    rev: {rand(HEX, 40)}\n",
                            f"# fixed in {rand(HEX, 7)}, see {rand(HEX, 40)}\n",
                            f"git checkout {rand(HEX, 40)}\n"),
    "lockfile_hash": lambda: pick(
        f'      "integrity": "sha512-{base64.b64encode(R.randbytes(64)).decode()}",\n',
        f'    {{file = "pkg-1.{R.randint(0, 9)}.tar.gz", hash = "sha256:{rand(HEX, 64)}"}},\n',
        f'checksum = "{rand(HEX, 64)}"\n', f"github.com/pkg/errors v0.9.1 h1:{base64.b64encode(R.randbytes(32)).decode()}\n",
        f"  resolved \"https://registry.yarnpkg.com/left-pad/-/left-pad-1.3.0.tgz#{rand(HEX, 40)}\"\n"),
    "base64_image": lambda: pick(
        f'<img src="data:image/png;base64,iVBORw0KGgo{base64.b64encode(R.randbytes(90)).decode()}">\n',
        f"background: url(data:image/gif;base64,R0lGODlh{base64.b64encode(R.randbytes(60)).decode()});\n",
        f'icon = "data:image/svg+xml;base64,{base64.b64encode(R.randbytes(48)).decode()}"\n'),
    "secret_reference": lambda: pick(
        'password = os.environ["DB_PASSWORD"]\n', "  password: ${DB_PASSWORD}\n", "api_key = os.getenv('API_KEY')\n",
        "const token = process.env.GITHUB_TOKEN;\n", 'password: "{{ vault_db_password }}"\n',
        "password = getpass.getpass()\n", "DB_PASSWORD=\n", "PASSWORD=${POSTGRES_PASSWORD}\n",
        "secret_key = settings.SECRET_KEY\n", "password = None\n", 'password = "<your-password>"\n',
        "aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}\n", 'password: "********"\n',
        'token = secrets["deploy_token"]\n', "api_key: !vault |\n", "password = config.get('db', 'password')\n"),
    "secret_word_code": lambda: pick(
        "if password == confirm_password:\n", "def check_password(password: str) -> bool:\n",
        "user.set_password(password)\n", "tokens = tokenizer.encode(text)\n", "key = cache_key(user.id)\n",
        "id = Column(Integer, primary_key=True)\n", 'sort_key = "created_at"\n', 'api_key_header = "X-API-Key"\n',
        'TOKEN_URL = "https://oauth2.googleapis.com/token"\n', 'secret_name = "prod/db/credentials"\n',
        "for key, value in mapping.items():\n", "password_min_length = 12\n", 'i18nKey: "dashboard.welcomeMessage"\n',
        'PASSWORD_FIELD = "password"\n', "token_type: Bearer\n", "access_token_ttl = 3600\n",
        'key_path = "/etc/ssl/private/server.key"\n', "self.password = password\n", "password: str\n"),
    "public_material": lambda: pick(
        f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{rand(B64, 43)} deploy@ci\n",
        "-----BEGIN PUBLIC KEY-----\n" + "\n".join(rand(B64, 64) for _ in range(3)) + "\n-----END PUBLIC KEY-----\n",
        "-----BEGIN CERTIFICATE-----\n" + "\n".join(rand(B64, 64) for _ in range(4)) + "\n-----END CERTIFICATE-----\n",
        f'STRIPE_PUBLISHABLE_KEY = "pk_live_{rand(ALNUM, 24)}"\n', f"public_key: {rand(B64, 44)}=\n"),
    "url_without_credentials": lambda: pick(
        f"DATABASE_URL=postgres://{host()}:5432/{ident()}\n", f"git clone git@github.com:{ident()}/{ident()}.git\n",
        f"https://{ident()}.example.com:8443/api/v2/items?page=2\n", f"ssh://git@{host()}:2222/repo.git\n",
        f"redis://{host()}:6379/0\n", f"mailto:{ident()}@example.com\n"),
    "prose_and_ids": lambda: pick(
        "GitHub personal access tokens start with ghp_ and are 40 characters long.\n",
        "# AKIA keys are long-term, ASIA keys are temporary\n", "Use Bearer authentication for every request.\n",
        f"order_number = \"ORD-{R.randint(10**9, 10**10)}\"\n", f"color: #{rand(HEX, 6)};\n",
        f"version = \"{R.randint(0, 9)}.{R.randint(0, 20)}.{R.randint(0, 50)}\"\n",
        f"image: nginx@sha256:{rand(HEX, 64)}\n", f"MD5 = \"{rand(HEX, 32)}\"\n", f"etag: W/\"{rand(HEX, 32)}\"\n",
        f"phone = \"+1-555-{R.randint(100, 999)}-{R.randint(1000, 9999)}\"\n"),
    "encoded_data": lambda: pick(
        f'font_data = "{base64.b64encode(R.randbytes(60)).decode()}"\n',
        f"payload = b64decode(\"{base64.b64encode(R.randbytes(30)).decode()}\")\n",
        f"expected_digest = \"{rand(HEX, 64)}\"\n", f"fingerprint: {':'.join(rand(HEX, 2) for _ in range(16))}\n"),
}


def main(out_dir: Path = HERE) -> None:
    R.seed(SEED)
    secrets: list[dict[str, object]] = []
    for kind, gen in SECRET_GENERATORS.items():
        for i in range(PER_KIND):
            text, values = gen()
            secrets.append({"id": f"{kind}-{i}", "kind": kind, "text": text, "secrets": values})
    for i, (kind, text, values) in enumerate(TRICKY_SECRETS):
        secrets.append({"id": f"tricky-{i}", "kind": kind, "text": text, "secrets": values})
    harmless: list[dict[str, object]] = []
    for category, hgen in HARMLESS_GENERATORS.items():
        for i in range(PER_CATEGORY * 2):
            harmless.append({"id": f"{category}-{i}", "category": category, "text": hgen()})
    for i, (category, text) in enumerate(TRICKY_HARMLESS):
        harmless.append({"id": f"tricky-{i}", "category": category, "text": text})
    for name, rows in (("secrets.jsonl", secrets), ("harmless.jsonl", harmless)):
        with (out_dir / name).open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(secrets)} secret snippets, {len(harmless)} harmless snippets")


if __name__ == "__main__":
    main()
