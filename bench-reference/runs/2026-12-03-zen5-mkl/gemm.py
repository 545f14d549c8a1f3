import torch, time
torch.set_num_threads(2)
for (M,N,K) in [(256,1280,11520),(256,640,11520),(64,1280,11520),(1024,5120,640),(4096,2560,320),(1024,1280,1280)]:
    a=torch.randn(M,K); b=torch.randn(K,N)
    for _ in range(3): a@b
    ts=[]
    for _ in range(7):
        t=time.perf_counter(); a@b; ts.append(time.perf_counter()-t)
    ts.sort(); print(M,N,K, "%.2f ms %.1f GFLOP/s"%(ts[3]*1e3, 2*M*N*K/ts[3]/1e9), torch.__version__)
