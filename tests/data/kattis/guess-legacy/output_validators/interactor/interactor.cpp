// Interactor of "Guess the Number" in C++ (written for codeexec's tests): same protocol
// as ../../guess/output_validator/interactor.py.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

static void reject(const char* feedback_dir, const std::string& message) {
    std::string path = std::string(feedback_dir) + "/judgemessage.txt";
    if (FILE* out = std::fopen(path.c_str(), "w")) {
        std::fputs(message.c_str(), out);
        std::fclose(out);
    }
    std::exit(43);
}

int main(int argc, char** argv) {
    if (argc < 4) return 1;
    FILE* in = std::fopen(argv[1], "r");
    long long n = 0, secret = 0;
    if (!in || std::fscanf(in, "%lld %lld", &n, &secret) != 2) return 1;
    int allowed = 0;
    for (long long m = n; m > 0; m >>= 1) ++allowed;
    std::cout << n << std::endl;
    for (int guess_number = 1; guess_number <= allowed; ++guess_number) {
        std::string line;
        if (!std::getline(std::cin, line)) reject(argv[3], "input ended");
        char* end = nullptr;
        long long guess = std::strtoll(line.c_str(), &end, 10);
        if (end == line.c_str()) reject(argv[3], "not a number");
        if (guess == secret) {
            std::cout << "correct" << std::endl;
            return 42;
        }
        std::cout << (guess < secret ? "higher" : "lower") << std::endl;
    }
    reject(argv[3], "too many guesses");
}
