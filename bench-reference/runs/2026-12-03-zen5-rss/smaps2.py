import sys, re
def parse(f):
    maps={}; cur=None
    for line in open(f):
        if re.match(r'^[0-9a-f]+-[0-9a-f]+ ', line):
            parts=line.split(); a,b=[int(x,16) for x in parts[0].split('-')]
            cur={'start':a,'size':(b-a)>>10,'name':parts[5] if len(parts)>5 else '[anon]','rss':0,'perm':parts[1]}; maps[a]=cur
        elif line.startswith('Rss:'): cur['rss']=int(line.split()[1])
    return maps
a=parse(sys.argv[1]); b=parse(sys.argv[2])
rows=[]
for k,x in b.items():
    r0=a[k]['rss'] if k in a else 0
    rows.append((x['rss']-r0, x['size'], x['rss'], x['name'], hex(k), x['perm'], k in a))
rows.sort(reverse=True)
for r in rows[:25]: print('%+7.1f MB  size %8.1f MB rss %7.1f  %s %s %s existed=%s'%(r[0]/1024, r[1]/1024, r[2]/1024, r[3], r[4], r[5], r[6]))
gone=[(x['rss'],x['size'],hex(k)) for k,x in a.items() if k not in b]
print('gone maps rss MB', sum(g[0] for g in gone)/1024, len(gone))
new=[r for r in rows if not r[6]]
print('new maps', len(new), 'rss MB', sum(r[2] for r in new)/1024)
import collections
c=collections.Counter()
for r in new: c[round(r[1]/1024)]+=1
print(sorted(c.items())[:40])
