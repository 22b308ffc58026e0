"""POST /services/oauth2/token and the bearer tokens it hands out (§1).

Every flow answers the §1.2 success object (no expires_in; instance_url
is the fake's own base URL) or HTTP 400 with {"error",
"error_description"} in the words of §1.3-§1.6.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from store import ORG_ID, USER_ID

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DEFAULT_AUDIENCES = ("https://login.salesforce.com",
                     "https://test.salesforce.com")


class OAuthError(Exception):
    def __init__(self, error, description, status=400):
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def body(self):
        return {"error": self.error, "error_description": self.description}


def bad_client_id():
    return OAuthError("invalid_client_id", "client identifier invalid")


def bad_secret():
    return OAuthError("invalid_client", "invalid client credentials")


def auth_failure():
    return OAuthError("invalid_grant", "authentication failure")


def b64url_decode(part):
    pad = "=" * (-len(part) % 4)
    return base64.urlsafe_b64decode(part + pad)


def load_public_key(path):
    """A PEM certificate or public key, as uploaded to a connected app."""
    with open(path, "rb") as f:
        data = f.read()
    if b"BEGIN CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return serialization.load_pem_public_key(data)


class OAuth:
    """Credentials, issued access tokens and refresh tokens."""

    def __init__(self, args):
        self.client_id = args.client_id
        self.client_secret = args.client_secret
        self.username = args.username
        self.password = args.password
        self.initial_refresh = args.refresh_token
        self.audiences = tuple(args.jwt_audience or DEFAULT_AUDIENCES)
        self.jwt_max_exp = args.jwt_max_exp
        self.jwt_key = load_public_key(args.jwt_cert) \
            if args.jwt_cert else None
        self.reset()

    def reset(self):
        self.tokens = set()
        self.refresh_tokens = {self.initial_refresh}
        self.rotate = False
        self.cc_wrong_host = False

    # --- bearer tokens --------------------------------------------------

    def valid(self, header):
        """Authorization: Bearer <token> (or the older "OAuth <token>")
        naming a live token."""
        if not header:
            return False
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() not in ("bearer", "oauth"):
            return False
        return token.strip() in self.tokens

    def expire_all(self):
        self.tokens.clear()

    def revoke_refresh_tokens(self):
        self.refresh_tokens.clear()

    # --- token endpoint -------------------------------------------------

    def token(self, method, body, headers, base_url):
        """(status, JSON object) for one token request."""
        try:
            if method != "POST":
                raise OAuthError("invalid_request", "must use HTTP POST")
            form = {k: v[0] for k, v in
                    parse_qs(body.decode("utf-8", "replace"),
                             keep_blank_values=True).items()}
            grant = form.get("grant_type", "")
            flows = {
                "password": self.password_flow,
                "client_credentials": self.client_credentials_flow,
                "refresh_token": self.refresh_flow,
                JWT_GRANT: self.jwt_flow,
            }
            flow = flows.get(grant)
            if flow is None:
                raise OAuthError("unsupported_grant_type",
                                 "grant type not supported")
            return 200, flow(form, headers, base_url)
        except OAuthError as err:
            return err.status, err.body()

    def password_flow(self, form, headers, base_url):
        """§1.6: client id and secret, username, password+token."""
        self.check_client(form.get("client_id"), form.get("client_secret"),
                          secret_required=True)
        if form.get("username") != self.username \
                or form.get("password") != self.password:
            raise auth_failure()
        return self.issue(base_url, signed=True)

    def client_credentials_flow(self, form, headers, base_url):
        """§1.4: credentials in the body or in HTTP Basic."""
        if self.cc_wrong_host:
            raise OAuthError("invalid_grant",
                             "request not supported on this domain")
        client_id, secret = self.client_from(form, headers)
        self.check_client(client_id, secret, secret_required=True)
        return self.issue(base_url, signed=True)

    def refresh_flow(self, form, headers, base_url):
        """§1.5: a known refresh token; with rotation on, a new refresh
        token replaces it."""
        client_id, secret = self.client_from(form, headers)
        self.check_client(client_id, secret, secret_required=False)
        token = form.get("refresh_token", "")
        if token not in self.refresh_tokens:
            raise OAuthError("invalid_grant",
                             "expired access/refresh token")
        out = self.issue(base_url, signed=True)
        if self.rotate:
            self.refresh_tokens.discard(token)
            fresh = "5Aep" + secrets.token_urlsafe(40)
            self.refresh_tokens.add(fresh)
            out["refresh_token"] = fresh
        return out

    def jwt_flow(self, form, headers, base_url):
        """§1.3: RS256 signature with the uploaded certificate, iss =
        consumer key, aud in the allow-list, exp in the future but within
        the window, sub = the username (prn wins when both are given)."""
        parts = form.get("assertion", "").split(".")
        if len(parts) != 3:
            raise OAuthError("invalid_grant", "invalid assertion")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except ValueError:
            raise OAuthError("invalid_grant", "invalid assertion")
        if not isinstance(header, dict) or not isinstance(claims, dict) \
                or header.get("alg") != "RS256":
            raise OAuthError("invalid_grant", "invalid assertion")
        if claims.get("iss") != self.client_id:
            raise bad_client_id()
        if not self.signature_ok(parts, signature):
            raise OAuthError("invalid_grant", "invalid assertion")
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if not any(a in self.audiences for a in auds):
            raise OAuthError("invalid_grant", "audience is invalid")
        exp = claims.get("exp")
        if isinstance(exp, bool) or not isinstance(exp, int):
            raise OAuthError("invalid_grant", "invalid assertion")
        now = time.time()
        if exp <= now:
            raise OAuthError("invalid_grant", "expired authorization code")
        if exp > now + self.jwt_max_exp:
            # A far exp (often milliseconds by mistake, §1.3); the
            # description is UNCONFIRMED.
            raise OAuthError("invalid_grant", "invalid assertion")
        subject = claims.get("prn", claims.get("sub"))
        if subject != self.username:
            # UNCONFIRMED description for an unknown user.
            raise OAuthError("invalid_grant",
                             "user hasn't approved this consumer")
        return self.issue(base_url, signed=False)

    def signature_ok(self, parts, signature):
        key = self.jwt_key
        if not isinstance(key, rsa.RSAPublicKey):
            return False
        signed = f"{parts[0]}.{parts[1]}".encode("ascii")
        try:
            key.verify(signature, signed, padding.PKCS1v15(),
                       hashes.SHA256())
        except InvalidSignature:
            return False
        return True

    # --- helpers --------------------------------------------------------

    def client_from(self, form, headers):
        """Client credentials from the form, else from HTTP Basic."""
        if form.get("client_id"):
            return form.get("client_id"), form.get("client_secret")
        auth = headers.get("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "basic":
            try:
                text = base64.b64decode(value.strip()).decode("utf-8")
            except ValueError:
                raise bad_client_id()
            client_id, _, secret = text.partition(":")
            return client_id, secret
        return None, None

    def check_client(self, client_id, secret, secret_required):
        if client_id != self.client_id:
            raise bad_client_id()
        if secret is None and not secret_required:
            return
        if secret != self.client_secret:
            raise bad_secret()

    def issue(self, base_url, signed):
        """A new random access token and the §1.2 answer around it."""
        token = f"{ORG_ID[:15]}!AQ" + secrets.token_urlsafe(64)
        self.tokens.add(token)
        out = {"access_token": token, "instance_url": base_url,
               "id": f"{base_url}/id/{ORG_ID}/{USER_ID}",
               "token_type": "Bearer", "scope": "api"}
        if signed:
            issued = str(int(time.time() * 1000))
            mac = hmac.new(self.client_secret.encode(),
                           (out["id"] + issued).encode(), hashlib.sha256)
            out["issued_at"] = issued
            out["signature"] = base64.b64encode(mac.digest()).decode()
        return out
