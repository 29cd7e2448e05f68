import Testing

@testable import KClinic

/// session.md: milligrams are exact decimals of the JSON literals.
@Suite struct MilligramsTests {
    @Test(arguments: [
        ("32.535", "32.535"), ("-12", "-12"), ("1e-05", "0.00001"), ("2.5e+20", "250000000000000000000"), ("0.5", "0.5"),
        ("100000", "100000"), ("1E3", "1000"), ("0.0000000000005", "0"), ("0.0000000000015", "0.000000000002"),
    ])
    func R15_decimalTextIsExact(_ text: String, _ expected: String) throws {
        #expect(try #require(Milligrams(decimalText: text)).text == expected)
    }

    @Test func R15_doublesReadAsTheirLiteral() throws {
        // 0.45 × 72.3 = 32.535 exactly, not 32.534999…
        let weight = try #require(Milligrams(72.3))
        let product = try #require(Milligrams(0.45)?.times(weight))
        #expect(product.text == "32.535")
        let a = try #require(Milligrams(0.1))
        let b = try #require(Milligrams(0.2))
        #expect(a.text == "0.1")
        #expect((a + b).text == "0.3")
        #expect(Milligrams(.nan) == nil && Milligrams(.infinity) == nil)
        #expect(Milligrams(decimalText: "1.2.3") == nil && Milligrams(decimalText: "") == nil && Milligrams(decimalText: "e5") == nil)
    }
}
