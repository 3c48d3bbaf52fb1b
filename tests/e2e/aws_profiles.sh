#!/usr/bin/env bash
# End-to-end: the savoir binary takes its AWS credentials from ~/.aws profiles
# as the AWS CLI would, and Bedrock accepts what it signs with them:
#   - a role profile (role_arn + source_profile + external_id) whose source
#     profile runs a credential_process: STS AssumeRole signed with the
#     process's keys (tests/js/fake-sts.mjs checks the signature with the npm
#     `aws4` signer), then Bedrock InvokeModel signed with the role's session
#     (tests/js/fake-bedrock.mjs checks it with `aws4` too);
#   - an SSO profile (sso_session) with the token `aws sso login` caches;
#   - the errors: expired SSO token, role refused by STS, failing process.
# Usage: aws_profiles.sh SAVOIR_BINARY SOURCE_DIR
set -u
BIN=$1
SRC=$2
command -v node >/dev/null || { echo "node missing: skipped"; exit 77; }
[ -d "$SRC/tests/js/node_modules/aws4" ] || { echo "tests/js/node_modules missing (run scripts/install-deps): skipped"; exit 77; }
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

ROLE_ARN=arn:aws:iam::123456789012:role/savoir-bedrock
# start NAME SCRIPT ENV...: runs a node fake, sets PORT_<NAME> from its "listening <port>" line.
start() {
  local name=$1 script=$2
  shift 2
  : >"$WORK/$name.out"
  # exec: the recorded pid is node itself, so cleanup stops it (not just a subshell).
  (cd "$SRC/tests/js" && exec env "$@" node "$script" >"$WORK/$name.out" 2>&1) &
  PIDS+=($!)
  for _ in $(seq 1 200); do
    local port
    port=$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$WORK/$name.out")
    if [ -n "$port" ]; then
      eval "PORT_$name=$port"
      return 0
    fi
    sleep 0.05
  done
  cat "$WORK/$name.out"
  return 1
}
start bedrock fake-bedrock.mjs FAKE_AWS_ACCESS_KEY_ID=ASIAROLEE2E FAKE_AWS_SECRET_ACCESS_KEY=role/secret/e2e \
  FAKE_AWS_SESSION_TOKEN=ROLE-SESSION-TOKEN FAKE_AWS_REGION=eu-west-3 || fail "fake-bedrock did not start"
start sts fake-sts.mjs FAKE_STS_CALLERS=AKIABASEE2E:base/secret/e2e FAKE_STS_ROLES=$ROLE_ARN \
  FAKE_ROLE_KEY=ASIAROLEE2E FAKE_ROLE_SECRET=role/secret/e2e FAKE_ROLE_TOKEN=ROLE-SESSION-TOKEN \
  FAKE_SSO_TOKEN=sso-e2e-token || fail "fake-sts did not start"
STS=http://127.0.0.1:$PORT_sts
BEDROCK=http://127.0.0.1:$PORT_bedrock

HOME_DIR=$WORK/home
mkdir -p "$HOME_DIR/.aws/sso/cache" "$WORK/bin dir"
cat >"$WORK/bin dir/base-creds" <<'EOF'
#!/bin/sh
[ "$1" = "--account" ] && [ "$2" = "base account" ] || { echo "bad arguments: $*" >&2; exit 2; }
echo '{"Version": 1, "AccessKeyId": "AKIABASEE2E", "SecretAccessKey": "base/secret/e2e"}'
EOF
printf '#!/bin/sh\necho "vault is sealed" >&2\nexit 5\n' >"$WORK/bin dir/broken-creds"
chmod +x "$WORK/bin dir/base-creds" "$WORK/bin dir/broken-creds"
cat >"$HOME_DIR/.aws/config" <<EOF
[profile app]
role_arn = $ROLE_ARN
source_profile = base
external_id = savoir-e2e
region = eu-west-3

[profile base]
credential_process = "$WORK/bin dir/base-creds" --account 'base account'

[profile denied]
role_arn = arn:aws:iam::123456789012:role/not-allowed
source_profile = base

[profile broken]
role_arn = $ROLE_ARN
source_profile = vault

[profile vault]
credential_process = '$WORK/bin dir/broken-creds'

[profile sso]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = SavoirBedrock

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
EOF
sso_token() {  # EXPIRES_AT
  printf '{"startUrl": "https://corp.awsapps.com/start", "region": "eu-west-1", "accessToken": "sso-e2e-token", "expiresAt": "%s"}' "$1" \
    >"$HOME_DIR/.aws/sso/cache/$(printf %s corp | sha1sum | cut -c1-40).json"
}
sso_token "$(date -u -d '+8 hours' +%Y-%m-%dT%H:%M:%SZ)"

# embed PROFILE: `savoir embed` through Bedrock with only the profile to go on.
embed() {
  env -i PATH="$PATH" HOME="$HOME_DIR" AWS_PROFILE="$1" AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL_SSO="$STS" \
    "$BIN" --embedder bedrock --embed-model amazon.titan-embed-text-v2:0 --aws-region eu-west-3 \
    --bedrock-endpoint "$BEDROCK" --aws-sts-endpoint "$STS" embed "Database backups are kept for 30 days."
}
check_vectors() {
  python3 -c 'import json,sys; e=json.load(sys.stdin); assert len(e["vectors"]) == 1 and len(e["vectors"][0]) == e["dimensions"] > 0, e' \
    <"$1" || fail "$2: no vector in $(cat "$1")"
}

# 1. Role assumed from a credential_process source profile.
embed app >"$WORK/app.json" 2>"$WORK/app.err" || fail "profile app: $(cat "$WORK/app.err")"
check_vectors "$WORK/app.json" "profile app"
curl -sf "$STS/__requests" >"$WORK/sts.json" || fail "fake-sts requests"
python3 - "$WORK/sts.json" "$ROLE_ARN" <<'PY' || fail "what STS received: $(cat "$WORK/sts.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert len(r) == 1, r
a = r[0]
assert a["action"] == "AssumeRole" and a["role"] == sys.argv[2] and a["key"] == "AKIABASEE2E", a
assert a["externalId"] == "savoir-e2e" and a["region"] == "eu-west-3" and a["token"] is None, a
assert a["session"].startswith("savoir-"), a
PY
echo "ok: role profile with a credential_process source (AssumeRole signed, checked by aws4; Bedrock accepted the role session)"

# 2. SSO profile with the cached token.
embed sso >"$WORK/sso.json" 2>"$WORK/sso.err" || fail "profile sso: $(cat "$WORK/sso.err")"
check_vectors "$WORK/sso.json" "profile sso"
echo "ok: SSO profile (sso-session) through the portal's GetRoleCredentials"

# 3. Errors: each exits 1 with a message that says what to do, and no secret.
expect_error() {  # PROFILE TEXT
  local out rc
  out=$(embed "$1" 2>&1); rc=$?
  [ $rc = 1 ] || fail "profile $1: exit $rc, $out"
  grep -qF -- "$2" <<<"$out" || fail "profile $1: '$2' not in: $out"
  if grep -q "base/secret\|role/secret\|sso-e2e-token" <<<"$out"; then fail "profile $1: a secret in: $out"; fi
  echo "ok: profile $1 -> $(head -c 200 <<<"$out")"
}
sso_token "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)"
expect_error sso "run \`aws sso login --profile sso\`"
expect_error denied "STS refused AssumeRole for arn:aws:iam::123456789012:role/not-allowed (HTTP 403 AccessDenied"
expect_error broken "exited with status 5: vault is sealed"
echo "PASS"
