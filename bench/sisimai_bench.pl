#!/usr/bin/perl
# bench/sisimai_bench.pl - Sisimai (Debian libsisimai-perl) over bounce files,
# the reference bench/dsn_bench.sh measures milter-egress against.
#
#   perl bench/sisimai_bench.pl FILE...            one pass, prints one line
#                                                  per recipient (reason)
#   perl bench/sisimai_bench.pl -r ROUNDS FILE...  in-process: warm up once,
#                                                  then ROUNDS timed passes
use strict;
use warnings;
use Sisimai;
use Time::HiRes qw(time);

my $rounds = 0;
if (@ARGV >= 2 && $ARGV[0] eq '-r') {
	shift @ARGV;
	$rounds = shift @ARGV;
}
my @files = @ARGV;
if (!$rounds) {
	for my $f (@files) {
		my $d = Sisimai->make($f) || [];
		print "$f: ", $_->reason, "\n" for @$d;
	}
	exit 0;
}
Sisimai->make($_) for @files;	# warm up
my ($n, $r, $t) = (0, 0, time);
for (1 .. $rounds) {
	for my $f (@files) {
		my $d = Sisimai->make($f);
		$r += scalar @{ $d || [] };
		$n++;
	}
}
my $dt = time - $t;
printf "parse+classify: %.0f messages/s, %.0f recipients/s, %.1f us/message\n",
    $n / $dt, $r / $dt, $dt * 1e6 / $n;
