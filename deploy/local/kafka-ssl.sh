# govex: mutual TLS, principal mapping and ACL authorisation for the local
# Kafka (issue 8). Sourced by kafka.sh (`kafka.sh start ... --ssl PKI`);
# defines functions only.
#
# PKI is a directory made by govexctl:
#   govexctl agency ca-init --pki PKI                     ca.key, ca.crt
#   govexctl agency add govex-kafka --role kafka --pki PKI  the nodes' key and
#                                 certificate (SANs 127.0.0.1 and localhost)
#   govexctl agency add govex-admin --role admin --pki PKI  the exchange's own
#                                 admin client (setup, catalogue, acl sync)
# Every file is mode 0600. GOVEX_SSL_NODE and GOVEX_SSL_ADMIN name other
# principals than govex-kafka and govex-admin.
#
# What the node gets:
#   - every listener SSL with ssl.client.auth=required: the client listener
#     and the controller listener alike. The controller listener is SSL too
#     (not PLAINTEXT on loopback) because a PLAINTEXT listener's principal is
#     User:ANONYMOUS, which would have to be a super user for the brokers to
#     register, and anyone who can reach that port (every local user) would
#     then be a super user; since Kafka 3.7 admin clients may talk to
#     controllers directly. With SSL the nodes authenticate to each other by
#     their certificate and nobody else can.
#   - the keystore and truststore as PEM files (ssl.keystore.type=PEM,
#     ssl.truststore.type=PEM; Kafka 2.7+): the key must be unencrypted
#     PKCS#8, which is what govexctl writes, so no password is set.
#   - ssl.principal.mapping.rules: "CN=<code>,OU=tls,O=govex" -> <code>, so
#     ACLs name agencies as User:SX-MZ.
#   - the KRaft StandardAuthorizer with allow.everyone.if.no.acl.found=false
#     and super.users = the node and the admin principal.

kafka_ssl_node() { echo "${GOVEX_SSL_NODE:-govex-kafka}"; }
kafka_ssl_admin() { echo "${GOVEX_SSL_ADMIN:-govex-admin}"; }

# kafka_ssl_check PKI: the files a node needs, present and private.
kafka_ssl_check() {
    local pki=$1 node f
    node=$(kafka_ssl_node)
    for f in "$pki/ca.crt" "$pki/$node.crt" "$pki/$node.key"; do
        [[ -f $f ]] || { echo "kafka-ssl.sh: $f missing (see the top of deploy/local/kafka-ssl.sh)" >&2; return 1; }
    done
    if [[ -n $(find "$pki/$node.key" -perm /077) ]]; then
        echo "kafka-ssl.sh: $pki/$node.key may be read by group or others; chmod 600" >&2
        return 1
    fi
}

# kafka_ssl_pem PKI DIR: DIR/ssl/keystore.pem (key, then certificate) and
# DIR/ssl/truststore.pem (the CA), mode 0600.
kafka_ssl_pem() {
    local pki=$1 dir=$2 node
    node=$(kafka_ssl_node)
    kafka_ssl_check "$pki" || return 1
    (
        umask 077
        mkdir -p "$dir/ssl"
        cat "$pki/$node.key" "$pki/$node.crt" >"$dir/ssl/keystore.pem.tmp"
        mv "$dir/ssl/keystore.pem.tmp" "$dir/ssl/keystore.pem"
        cp "$pki/ca.crt" "$dir/ssl/truststore.pem"
    )
}

# kafka_ssl_properties DIR PORT CPORT: the lines appended to
# server.properties (later lines win in a properties file).
kafka_ssl_properties() {
    local dir=$1 port=$2 cport=$3
    cat <<EOF

# ---- mutual TLS and ACLs (deploy/local/kafka-ssl.sh) ----
listeners=SSL://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=SSL://127.0.0.1:$port
listener.security.protocol.map=SSL:SSL,CONTROLLER:SSL
inter.broker.listener.name=SSL
controller.listener.names=CONTROLLER
ssl.client.auth=required
ssl.keystore.type=PEM
ssl.keystore.location=$dir/ssl/keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$dir/ssl/truststore.pem
ssl.endpoint.identification.algorithm=https
ssl.enabled.protocols=TLSv1.3,TLSv1.2
ssl.principal.mapping.rules=RULE:^CN=([A-Za-z0-9_-]{1,64}),OU=tls,O=govex\$/\$1/,DEFAULT
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:$(kafka_ssl_node);User:$(kafka_ssl_admin)
EOF
}

# kafka_ssl_kcat_args PKI: kcat options to reach the SSL listener as the
# node itself (a super user), for kafka.sh's "does it answer" check.
kafka_ssl_kcat_args() {
    local pki=$1 node
    node=$(kafka_ssl_node)
    printf '%s\n' -X security.protocol=ssl -X "ssl.ca.location=$pki/ca.crt" \
        -X "ssl.certificate.location=$pki/$node.crt" -X "ssl.key.location=$pki/$node.key"
}

# kafka_ssl_client_conf PKI CODE: the lines of a govex config file (-c) for
# a client holding CODE's certificate.
kafka_ssl_client_conf() {
    local pki=$1 code=$2
    cat <<EOF
kafka.security.protocol = ssl
kafka.ssl.ca.location = $pki/ca.crt
kafka.ssl.certificate.location = $pki/$code.crt
kafka.ssl.key.location = $pki/$code.key
EOF
}
