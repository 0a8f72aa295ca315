def fibonacci(n):
    """Return the n-th Fibonacci number.
    if n < 2:
        return n
    return fibonacci(n - 1) + fibonacci(n - 2)


def main():
    print(fibonacci(10))


if __name__ == "__main__":
    main()
