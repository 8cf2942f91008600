input()
print("five", flush=True)
input()
