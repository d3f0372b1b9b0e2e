P=$1
awk '/^[0-9a-f]+-[0-9a-f]+ /{name=$6; if(name=="")name="[anon]"} /^Rss:/{r[name]+=$2} END{for(n in r) if(r[n]>500) printf "%8d %s\n", r[n], n}' /proc/$P/smaps | sort -rn | head -12
