#!/usr/bin/perl
# defer_sink.pl PORT [REPLY] - an SMTP server on 127.0.0.1:PORT that defers
# every recipient the way a large mailbox provider defers a sender it does
# not trust: a 421 reply at RCPT TO, then it closes the connection. Used by
# tests/e2e/deferrals.sh as the next hop for one destination domain.
# Prints "ready" on stdout once it listens.
use strict;
use warnings;
use IO::Socket::INET;

my $port = shift or die "usage: defer_sink.pl PORT [REPLY]\n";
my $reply = shift // '421 4.7.0 [TSS04] Messages from 127.0.0.1 temporarily deferred due to unexpected volume or user complaints';
my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
    Listen => 16, ReuseAddr => 1, Proto => 'tcp') or die "listen: $!\n";
$| = 1;
print "ready\n";
$SIG{TERM} = sub { exit 0 };
while (my $c = $srv->accept) {
	$c->autoflush(1);
	print $c "220 defer.e2e.test ESMTP\r\n";
	while (defined(my $l = <$c>)) {
		if ($l =~ /^(EHLO|HELO)/i) { print $c "250 defer.e2e.test\r\n"; }
		elsif ($l =~ /^MAIL/i) { print $c "250 2.1.0 Ok\r\n"; }
		elsif ($l =~ /^RCPT/i) { print $c "$reply\r\n"; last; }
		elsif ($l =~ /^QUIT/i) { print $c "221 2.0.0 Bye\r\n"; last; }
		else { print $c "250 Ok\r\n"; }
	}
	close $c;
}
