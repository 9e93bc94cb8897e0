"""TLS for both listeners: the server-side `ssl.SSLContext` built from Redis's `tls-*`
parameters (the Redis TLS port) and from RabbitMQ's `ssl_options` equivalents (the AMQPS port).
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
    auth = params.get("tls-auth-clients")
    if not cert:
        raise TLSConfigError("No tls-cert-file configured!")
    if not key:
        raise TLSConfigError("No tls-key-file configured!")
    if auth != "no" and not ca:
        raise TLSConfigError("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when "
                             "tls-cluster, tls-replication or tls-auth-clients are enabled!")
    context = _server_context(cert, key, ca, _CLIENT_AUTH[auth])
    _limit_protocols(context, params.get("tls-protocols"))
    return context


def amqp_context(config: Config) -> ssl.SSLContext | None:
    """The AMQPS listener's context, or None when no certificate is configured."""
    if not config.amqp_ssl_certfile:
        return None
    if not config.amqp_ssl_keyfile:
        raise TLSConfigError("amqp-ssl-certfile is set but amqp-ssl-keyfile is not")
    if config.amqp_ssl_verify == "verify_none":
        verify = ssl.CERT_NONE
    else:
        if not config.amqp_ssl_cacertfile:
            raise TLSConfigError("amqp-ssl-verify verify_peer needs amqp-ssl-cacertfile")
        verify = ssl.CERT_REQUIRED if config.amqp_ssl_fail_if_no_peer_cert else ssl.CERT_OPTIONAL
    return _server_context(config.amqp_ssl_certfile, config.amqp_ssl_keyfile,
                           config.amqp_ssl_cacertfile, verify)


def amqps_port(config: Config) -> int | None:
    """The AMQPS port: as configured, else RabbitMQ's 5671 when a certificate is configured,
    else None (no AMQPS listener)."""
    if config.amqps_port is not None:
        if not config.amqp_ssl_certfile:
            raise TLSConfigError("amqps-port is set but amqp-ssl-certfile is not")
        return config.amqps_port
    return 5671 if config.amqp_ssl_certfile else None


def _server_context(cert: str, key: str, ca: str, verify: ssl.VerifyMode) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # Redis's and RabbitMQ's default protocols
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise TLSConfigError(f"Failed to load certificate or private key {cert}, {key}: {_reason(exc)}") from None
    if ca:
        try:
            context.load_verify_locations(cafile=ca)
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
