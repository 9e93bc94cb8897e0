"""TLS for both listeners: the server-side `ssl.SSLContext` built from Redis's `tls-*`
parameters (the Redis TLS port) and from RabbitMQ's `ssl_options` and `management.ssl`
equivalents (the AMQPS port, the management API's HTTPS port).
asyncio's `create_server(ssl=...)` then runs the handshake in front of the usual protocols.

Redis's `tls-auth-clients` maps to OpenSSL's verify modes as Redis sets them: `yes` requires a
client certificate signed by the CA (SSL_VERIFY_PEER | FAIL_IF_NO_PEER_CERT), `optional`
checks one when it is sent, `no` asks for none. RabbitMQ's `verify verify_peer` with
`fail_if_no_peer_cert true|false` is the same pair; `verify_none` asks for none."""

from __future__ import annotations

import ssl

from yizhan.config import Config

_PROTOCOLS = {"tlsv1": ssl.TLSVersion.TLSv1, "tlsv1.1": ssl.TLSVersion.TLSv1_1,
              "tlsv1.2": ssl.TLSVersion.TLSv1_2, "tlsv1.3": ssl.TLSVersion.TLSv1_3}
_CLIENT_AUTH = {"yes": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL, "no": ssl.CERT_NONE}


class TLSConfigError(Exception):
    """TLS cannot be set up as configured; the message says what is missing or unreadable."""


def redis_context(params) -> ssl.SSLContext | None:
    """The Redis TLS port's context, or None when `tls-port` is 0 (TLS off, Redis's default).
    Checked as Redis's tlsConfigure checks: certificate and key required, a CA required
    unless `tls-auth-clients no`."""
    if params.int("tls-port") == 0:
        return None
    cert, key, ca = params.get("tls-cert-file"), params.get("tls-key-file"), params.get("tls-ca-cert-file")
    ca_dir = params.get("tls-ca-cert-dir")
    auth = params.get("tls-auth-clients")
    if not cert:
        raise TLSConfigError("No tls-cert-file configured!")
    if not key:
        raise TLSConfigError("No tls-key-file configured!")
    if auth != "no" and not ca and not ca_dir:
        raise TLSConfigError("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when "
                             "tls-cluster, tls-replication or tls-auth-clients are enabled!")
    context = _server_context(cert, key, ca, _CLIENT_AUTH[auth], params.get("tls-key-file-pass") or None, ca_dir)
    _limit_protocols(context, params.get("tls-protocols"))
    _tune(context, params)
    return context


def _tune(context: ssl.SSLContext, params) -> None:
    """tls-ciphers (TLSv1.2 and below), tls-prefer-server-ciphers and tls-dh-params-file, as
    Redis's tlsCreateContext applies them (Python's ssl has no TLSv1.3 ciphersuites setter:
    tls-ciphersuites is kept but not applied)."""
    ciphers = params.get("tls-ciphers")
    if ciphers:
        try:
            context.set_ciphers(ciphers)
        except ssl.SSLError:
            raise TLSConfigError(f"Failed to configure ciphers: {ciphers}") from None
    if params.flag("tls-prefer-server-ciphers"):
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    dh_params = params.get("tls-dh-params-file")
    if dh_params:
        try:
            context.load_dh_params(dh_params)
        except (OSError, ssl.SSLError) as exc:
            raise TLSConfigError(f"Failed to load DH params file: {dh_params}: {_reason(exc)}") from None


# the listeners with RabbitMQ-style ssl options: config field prefix, port option, default port
AMQPS = ("amqp", "amqps_port", 5671)
MANAGEMENT_HTTPS = ("management", "management_ssl_port", 15671)


def listener_context(config: Config, listener: tuple[str, str, int]) -> ssl.SSLContext | None:
    """The context of AMQPS or the management API's HTTPS port, or None when no certificate
    is configured for it."""
    prefix = listener[0]
    cert, key, ca, verify_name, fail = (getattr(config, f"{prefix}_ssl_{field}") for field in (
        "certfile", "keyfile", "cacertfile", "verify", "fail_if_no_peer_cert"))
    if not cert:
        return None
    if not key:
        raise TLSConfigError(f"{prefix}-ssl-certfile is set but {prefix}-ssl-keyfile is not")
    if verify_name == "verify_none":
        verify = ssl.CERT_NONE
    else:
        if not ca:
            raise TLSConfigError(f"{prefix}-ssl-verify verify_peer needs {prefix}-ssl-cacertfile")
        verify = ssl.CERT_REQUIRED if fail else ssl.CERT_OPTIONAL
    return _server_context(cert, key, ca, verify)


def listener_port(config: Config, listener: tuple[str, str, int]) -> int | None:
    """The listener's port: as configured, else RabbitMQ's default (5671, 15671) when a
    certificate is configured, else None (no listener)."""
    prefix, port_field, default = listener
    port, cert = getattr(config, port_field), getattr(config, f"{prefix}_ssl_certfile")
    if port is not None:
        if not cert:
            raise TLSConfigError(f"{port_field.replace('_', '-')} is set but {prefix}-ssl-certfile is not")
        return port
    return default if cert else None


def _server_context(cert: str, key: str, ca: str, verify: ssl.VerifyMode, password: str | None = None,
                    ca_dir: str = "") -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # Redis's and RabbitMQ's default protocols
    try:
        context.load_cert_chain(cert, key, password)
    except (OSError, ssl.SSLError) as exc:
        raise TLSConfigError(f"Failed to load certificate or private key {cert}, {key}: {_reason(exc)}") from None
    if ca or ca_dir:
        try:
            context.load_verify_locations(cafile=ca or None, capath=ca_dir or None)
        except (OSError, ssl.SSLError) as exc:
            raise TLSConfigError(f"Failed to load CA certificate(s) file {ca}: {_reason(exc)}") from None
    context.verify_mode = verify
    return context


def _limit_protocols(context: ssl.SSLContext, protocols: str) -> None:
    """`tls-protocols "TLSv1.2 TLSv1.3"`: the span from the lowest to the highest named (an
    OpenSSL context takes a range, not a set); empty keeps TLSv1.2 and TLSv1.3."""
    words = protocols.lower().split()
    if not words:
        return
    if any(word not in _PROTOCOLS for word in words):
        raise TLSConfigError("Invalid tls-protocols specified. Use a combination of 'TLSv1', "
                             "'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.")
    versions = sorted(_PROTOCOLS[word] for word in words)
    context.minimum_version, context.maximum_version = versions[0], versions[-1]


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
