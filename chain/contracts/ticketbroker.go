// Code generated - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package contracts

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/event"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = errors.New
	_ = big.NewInt
	_ = strings.NewReader
	_ = ethereum.NotFound
	_ = bind.Bind
	_ = common.Big1
	_ = types.BloomLookup
	_ = event.NewSubscription
	_ = abi.ConvertType
	_ = time.Tick
	_ = context.Background
)

// TicketBrokerReserveInfo is an auto generated low-level Go binding around an user-defined struct.
type TicketBrokerReserveInfo struct {
	FundsRemaining        *big.Int
	ClaimedInCurrentRound *big.Int
}

// TicketBrokerSender is an auto generated low-level Go binding around an user-defined struct.
type TicketBrokerSender struct {
	Deposit       *big.Int
	WithdrawRound *big.Int
}

// TicketBrokerTicket is an auto generated low-level Go binding around an user-defined struct.
type TicketBrokerTicket struct {
	Recipient         common.Address
	Sender            common.Address
	FaceValue         *big.Int
	WinProb           *big.Int
	SenderNonce       *big.Int
	RecipientRandHash [32]byte
	AuxData           []byte
}

// TicketBrokerMetaData contains all meta data concerning the TicketBroker contract.
var TicketBrokerMetaData = &bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"address\",\"name\":\"controllerAddress\",\"type\":\"address\"}],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"sender\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"}],\"name\":\"DepositFunded\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"reserveHolder\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"address\",\"name\":\"claimant\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"}],\"name\":\"ReserveClaimed\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"reserveHolder\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"}],\"name\":\"ReserveFunded\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"sender\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"startRound\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"endRound\",\"type\":\"uint256\"}],\"name\":\"Unlock\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"sender\",\"type\":\"address\"}],\"name\":\"UnlockCancelled\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"sender\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"recipient\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"faceValue\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"winProb\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"senderNonce\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"recipientRand\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"bytes\",\"name\":\"auxData\",\"type\":\"bytes\"}],\"name\":\"WinningTicketRedeemed\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"sender\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"recipient\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"}],\"name\":\"WinningTicketTransfer\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"sender\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"deposit\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"reserve\",\"type\":\"uint256\"}],\"name\":\"Withdrawal\",\"type\":\"event\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"recipient\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"sender\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"faceValue\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"winProb\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"senderNonce\",\"type\":\"uint256\"},{\"internalType\":\"bytes32\",\"name\":\"recipientRandHash\",\"type\":\"bytes32\"},{\"internalType\":\"bytes\",\"name\":\"auxData\",\"type\":\"bytes\"}],\"internalType\":\"structTicketBroker.Ticket[]\",\"name\":\"tickets\",\"type\":\"tuple[]\"},{\"internalType\":\"bytes[]\",\"name\":\"sigs\",\"type\":\"bytes[]\"},{\"internalType\":\"uint256[]\",\"name\":\"recipientRands\",\"type\":\"uint256[]\"}],\"name\":\"batchRedeemWinningTickets\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"cancelUnlock\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"reserveHolder\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"claimant\",\"type\":\"address\"}],\"name\":\"claimableReserve\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"reserveHolder\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"claimant\",\"type\":\"address\"}],\"name\":\"claimedReserve\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"controller\",\"outputs\":[{\"internalType\":\"contractIController\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"fundDeposit\",\"outputs\":[],\"stateMutability\":\"payable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"depositAmount\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"reserveAmount\",\"type\":\"uint256\"}],\"name\":\"fundDepositAndReserve\",\"outputs\":[],\"stateMutability\":\"payable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"fundReserve\",\"outputs\":[],\"stateMutability\":\"payable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"sender\",\"type\":\"address\"}],\"name\":\"getSenderInfo\",\"outputs\":[{\"components\":[{\"internalType\":\"uint256\",\"name\":\"deposit\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"withdrawRound\",\"type\":\"uint256\"}],\"internalType\":\"structTicketBroker.Sender\",\"name\":\"info\",\"type\":\"tuple\"},{\"components\":[{\"internalType\":\"uint256\",\"name\":\"fundsRemaining\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"claimedInCurrentRound\",\"type\":\"uint256\"}],\"internalType\":\"structTicketBroker.ReserveInfo\",\"name\":\"reserve\",\"type\":\"tuple\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"recipient\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"sender\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"faceValue\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"winProb\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"senderNonce\",\"type\":\"uint256\"},{\"internalType\":\"bytes32\",\"name\":\"recipientRandHash\",\"type\":\"bytes32\"},{\"internalType\":\"bytes\",\"name\":\"auxData\",\"type\":\"bytes\"}],\"internalType\":\"structTicketBroker.Ticket\",\"name\":\"ticket\",\"type\":\"tuple\"}],\"name\":\"getTicketHash\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"pure\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"sender\",\"type\":\"address\"}],\"name\":\"isUnlockInProgress\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"owner\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"recipient\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"sender\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"faceValue\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"winProb\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"senderNonce\",\"type\":\"uint256\"},{\"internalType\":\"bytes32\",\"name\":\"recipientRandHash\",\"type\":\"bytes32\"},{\"internalType\":\"bytes\",\"name\":\"auxData\",\"type\":\"bytes\"}],\"internalType\":\"structTicketBroker.Ticket\",\"name\":\"ticket\",\"type\":\"tuple\"},{\"internalType\":\"bytes\",\"name\":\"sig\",\"type\":\"bytes\"},{\"internalType\":\"uint256\",\"name\":\"recipientRand\",\"type\":\"uint256\"}],\"name\":\"redeemWinningTicket\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"period\",\"type\":\"uint256\"}],\"name\":\"setTicketValidityPeriod\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"period\",\"type\":\"uint256\"}],\"name\":\"setUnlockPeriod\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"ticketValidityPeriod\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"unlock\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"unlockPeriod\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"name\":\"usedTickets\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"withdraw\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"}]",
	Bin: "0x60c060405260025f556002600155348015610018575f5ffd5b506040516127053803806127058339810160408190526100379161009b565b336080526001600160a01b03811661008a5760405162461bcd60e51b8152602060048201526012602482015271636f6e74726f6c6c6572206973207a65726f60701b604482015260640160405180910390fd5b6001600160a01b031660a0526100c8565b5f602082840312156100ab575f5ffd5b81516001600160a01b03811681146100c1575f5ffd5b9392505050565b60805160a0516126006101055f395f8181610395015281816117a5015261185301525f81816102790152818161060c0152610d3101526126005ff3fe60806040526004361061011b575f3560e01c8063856a2cf81161009d578063c929780811610062578063c9297808146102fa578063d01b808e14610319578063e1a589da14610338578063ec8b3cb614610365578063f77c479114610384575f5ffd5b8063856a2cf8146102545780638da5cb5b14610268578063a69df4b5146102b3578063b03fa864146102c7578063c2c4c2c8146102e6575f5ffd5b8063511f4073116100e3578063511f4073146101e457806359a515ba146101f75780636caa736b146102255780636f9c3c8f1461022d57806381779f3814610235575f5ffd5b8063121cdcc21461011f57806320d3a0b41461016d5780633ccfd60b146101905780633d0ddf84146101a65780634ac826da146101c5575b5f5ffd5b34801561012a575f5ffd5b50610158610139366004611ecf565b6001600160a01b03165f90815260036020526040902060010154151590565b60405190151581526020015b60405180910390f35b348015610178575f5ffd5b5061018260015481565b604051908152602001610164565b34801561019b575f5ffd5b506101a46103b7565b005b3480156101b1575f5ffd5b506101a46101c0366004611ef1565b610601565b3480156101d0575f5ffd5b506101826101df366004611f08565b610678565b6101a46101f2366004611f3f565b61072f565b348015610202575f5ffd5b50610158610211366004611ef1565b60026020525f908152604090205460ff1681565b6101a461084f565b6101a46108aa565b348015610240575f5ffd5b5061018261024f366004611f08565b6108ff565b34801561025f575f5ffd5b506101825f5481565b348015610273575f5ffd5b5061029b7f000000000000000000000000000000000000000000000000000000000000000081565b6040516001600160a01b039091168152602001610164565b3480156102be575f5ffd5b506101a4610af8565b3480156102d2575f5ffd5b506101826102e13660046120b2565b610c48565b3480156102f1575f5ffd5b506101a4610c99565b348015610305575f5ffd5b506101a4610314366004611ef1565b610d26565b348015610324575f5ffd5b506101a461033336600461212a565b610deb565b348015610343575f5ffd5b50610357610352366004611ecf565b610f5e565b6040516101649291906121c6565b348015610370575f5ffd5b506101a461037f3660046121ec565b61104b565b34801561038f575f5ffd5b5061029b7f000000000000000000000000000000000000000000000000000000000000000081565b335f90815260036020908152604080832080546004909352922054811515806103df57505f81115b6104045760405162461bcd60e51b81526004016103fb9061228c565b60405180910390fd5b82600101545f0361044f5760405162461bcd60e51b81526020600482015260156024820152746e6f20756e6c6f636b20696e2070726f677265737360581b60448201526064016103fb565b61045761176e565b6001600160a01b0316638a19c8bc6040518163ffffffff1660e01b8152600401602060405180830381865afa158015610492573d5f5f3e3d5ffd5b505050506040513d601f19601f820116820180604052508101906104b691906122cf565b836001015411156105095760405162461bcd60e51b815260206004820152601b60248201527f756e6c6f636b20706572696f6420686173206e6f7420656e646564000000000060448201526064016103fb565b5f808455600184018190553380825260046020908152604080842093909355825185815290810184905290917fdf273cb619d95419a9cd0ec88123a0538c85064229baa6363788f743fff90deb910160405180910390a25f3361056c83856122fa565b6040515f81818185875af1925050503d805f81146105a5576040519150601f19603f3d011682016040523d82523d5f602084013e6105aa565b606091505b50509050806105fb5760405162461bcd60e51b815260206004820152601a60248201527f7769746864726177616c207472616e73666572206661696c656400000000000060448201526064016103fb565b50505050565b336001600160a01b037f000000000000000000000000000000000000000000000000000000000000000016146106735760405162461bcd60e51b815260206004820152601760248201527631b0b63632b91034b9903737ba103a34329037bbb732b960491b60448201526064016103fb565b600155565b6001600160a01b0382165f9081526006602052604081208161069861176e565b6001600160a01b0316638a19c8bc6040518163ffffffff1660e01b8152600401602060405180830381865afa1580156106d3573d5f5f3e3d5ffd5b505050506040513d601f19601f820116820180604052508101906106f791906122cf565b81526020019081526020015f205f836001600160a01b03166001600160a01b031681526020019081526020015f205490505b92915050565b61073981836122fa565b341461079a5760405162461bcd60e51b815260206004820152602a60248201527f6d73672e76616c756520646f6573206e6f7420657175616c206465706f736974604482015269202b207265736572766560b01b60648201526084016103fb565b335f90815260036020526040812080548492906107b89084906122fa565b9091555050335f90815260046020526040812080548392906107db9084906122fa565b909155505060405182815233907f5159e237d952190e68d5215430f305831be7c9c8776d1377c76679ae4773413f9060200160405180910390a260405181815233907fb52b99b9e83551fcbd069b559cc3e823e2a1a3bad8ece46561ea77524394c850906020015b60405180910390a25050565b335f908152600360205260408120805434929061086d9084906122fa565b909155505060405134815233907f5159e237d952190e68d5215430f305831be7c9c8776d1377c76679ae4773413f906020015b60405180910390a2565b335f90815260046020526040812080543492906108c89084906122fa565b909155505060405134815233907fb52b99b9e83551fcbd069b559cc3e823e2a1a3bad8ece46561ea77524394c850906020016108a0565b5f5f61090961181c565b60405163022008dd60e21b81526001600160a01b03858116600483015291925090821690630880237490602401602060405180830381865afa158015610951573d5f5f3e3d5ffd5b505050506040513d601f19601f82011682018060405250810190610975919061230d565b610982575f915050610729565b5f816001600160a01b0316632a4e0d556040518163ffffffff1660e01b8152600401602060405180830381865afa1580156109bf573d5f5f3e3d5ffd5b505050506040513d601f19601f820116820180604052508101906109e391906122cf565b9050805f036109f6575f92505050610729565b5f6109ff61176e565b6001600160a01b0316638a19c8bc6040518163ffffffff1660e01b8152600401602060405180830381865afa158015610a3a573d5f5f3e3d5ffd5b505050506040513d601f19601f82011682018060405250810190610a5e91906122cf565b6001600160a01b0387165f8181526005602090815260408083208584528252808320549383526004909152812054929350918491610a9b916122fa565b610aa5919061232c565b6001600160a01b038089165f9081526006602090815260408083208784528252808320938b1683529290522054909150808211610ae2575f610aec565b610aec818361234b565b98975050505050505050565b335f9081526003602052604090208054151580610b225750335f9081526004602052604090205415155b610b3e5760405162461bcd60e51b81526004016103fb9061228c565b600181015415610b905760405162461bcd60e51b815260206004820152601a60248201527f756e6c6f636b20616c726561647920696e2070726f677265737300000000000060448201526064016103fb565b5f610b9961176e565b6001600160a01b0316638a19c8bc6040518163ffffffff1660e01b8152600401602060405180830381865afa158015610bd4573d5f5f3e3d5ffd5b505050506040513d601f19601f82011682018060405250810190610bf891906122cf565b905060015481610c0891906122fa565b6001830181905560405133917ff7870c5b224cbc19873599e46ccfc7103934650509b1af0c3ce90138377c20049161084391858252602082015260400190565b80516020808301516040808501516060860151608087015160a088015160c089015194515f98610c7c98909796910161235e565b604051602081830303815290604052805190602001209050919050565b335f9081526003602052604081206001810154909103610cf35760405162461bcd60e51b81526020600482015260156024820152746e6f20756e6c6f636b20696e2070726f677265737360581b60448201526064016103fb565b5f6001820181905560405133917ffa044b7b93a40365dc68049797c2eb06918523d694e5d56e406cac3eb35578e591a250565b336001600160a01b037f00000000000000000000000000000000000000000000000000000000000000001614610d985760405162461bcd60e51b815260206004820152601760248201527631b0b63632b91034b9903737ba103a34329037bbb732b960491b60448201526064016103fb565b5f8111610de75760405162461bcd60e51b815260206004820181905260248201527f76616c696469747920706572696f64206d75737420626520706f73697469766560448201526064016103fb565b5f55565b8483148015610df957508481145b610e3c5760405162461bcd60e51b815260206004820152601460248201527330b93930bc903632b733ba3439903234b33332b960611b60448201526064016103fb565b5f5b85811015610f55575f5a90503063ec8b3cb6898985818110610e6257610e626123c5565b9050602002810190610e7491906123d9565b888886818110610e8657610e866123c5565b9050602002810190610e9891906123f7565b888888818110610eaa57610eaa6123c5565b905060200201356040518563ffffffff1660e01b8152600401610ed094939291906124a2565b5f604051808303815f87803b158015610ee7575f5ffd5b505af1925050508015610ef8575060015b610f4c57610f0760408261232c565b5a11610f4c5760405162461bcd60e51b815260206004820152601460248201527362617463682072616e206f7574206f662067617360601b60448201526064016103fb565b50600101610e3e565b50505050505050565b6040805180820182525f8082526020918201819052825180840184528181528083018290526001600160a01b0385168083526003845284832085518087018752815481526001909101548186015281845260048552858420548352908352600590935292812091929190610fd061176e565b6001600160a01b0316638a19c8bc6040518163ffffffff1660e01b8152600401602060405180830381865afa15801561100b573d5f5f3e3d5ffd5b505050506040513d601f19601f8201168201806040525081019061102f91906122cf565b81526020019081526020015f2054816020018181525050915091565b5f6110596020860186611ecf565b6001600160a01b0316036110af5760405162461bcd60e51b815260206004820152601860248201527f7469636b657420726563697069656e74206973207a65726f000000000000000060448201526064016103fb565b5f6110c06040860160208701611ecf565b6001600160a01b03160361110e5760405162461bcd60e51b81526020600482015260156024820152747469636b65742073656e646572206973207a65726f60581b60448201526064016103fb565b5f61111761176e565b9050806001600160a01b031663219bc76c6040518163ffffffff1660e01b8152600401602060405180830381865afa158015611155573d5f5f3e3d5ffd5b505050506040513d601f19601f82011682018060405250810190611179919061230d565b6111c55760405162461bcd60e51b815260206004820181905260248201527f63757272656e7420726f756e64206973206e6f7420696e697469616c697a656460448201526064016103fb565b6111db816111d660c08801886123f7565b61188a565b5f6111e86102e187612559565b5f8181526002602052604090205490915060ff161561123a5760405162461bcd60e51b815260206004820152600e60248201526d1d1a58dad95d081a5cc81d5cd95960921b60448201526064016103fb565b8560a001358360405160200161125291815260200190565b60405160208183030381529060405280519060200120146112cc5760405162461bcd60e51b815260206004820152602e60248201527f726563697069656e7452616e6420646f6573206e6f74206d617463682072656360448201526d0d2e0d2cadce8a4c2dcc890c2e6d60931b60648201526084016103fb565b6112e78186866112e260408b0160208c01611ecf565b611ace565b856060013585858560405160200161130193929190612564565b604051602081830303815290604052805190602001205f1c1061135b5760405162461bcd60e51b81526020600482015260126024820152713a34b1b5b2ba103234b2103737ba103bb4b760711b60448201526064016103fb565b61136361181c565b6001600160a01b0316630880237461137e6020890189611ecf565b6040516001600160e01b031960e084901b1681526001600160a01b039091166004820152602401602060405180830381865afa1580156113c0573d5f5f3e3d5ffd5b505050506040513d601f19601f820116820180604052508101906113e4919061230d565b61143e5760405162461bcd60e51b815260206004820152602560248201527f726563697069656e74206973206e6f7420616e20616374697665207472616e7360448201526431b7b232b960d91b60648201526084016103fb565b5f60038161145260408a0160208b01611ecf565b6001600160a01b0316815260208101919091526040015f2080549091501515806114ad57505f60048161148b60408b0160208c01611ecf565b6001600160a01b03166001600160a01b031681526020019081526020015f2054115b6114c95760405162461bcd60e51b81526004016103fb9061228c565b5f82815260026020526040808220805460ff191660011790558254908901351161151257508054604088013590819083905f9061150790849061234b565b909155506115b89050565b81545f83556115aa61152a60408b0160208c01611ecf565b61153760208c018c611ecf565b6115458460408e013561234b565b886001600160a01b0316638a19c8bc6040518163ffffffff1660e01b8152600401602060405180830381865afa158015611581573d5f5f3e3d5ffd5b505050506040513d601f19601f820116820180604052508101906115a591906122cf565b611d7b565b6115b490826122fa565b9150505b8015611627576115cb6020890189611ecf565b6001600160a01b03166115e460408a0160208b01611ecf565b6001600160a01b03167f8b87351a208c06e3ceee59d80725fd77a23b4129e1b51ca231fc89b40712649c8360405161161e91815260200190565b60405180910390a35b6116346020890189611ecf565b6001600160a01b031661164d60408a0160208b01611ecf565b6001600160a01b03167fc389eb51ed006dbf2528507f010efdf5225ea596e1e1741d74f550dab1925ee78a604001358b606001358c608001358a8e8060c0019061169791906123f7565b6040516116a996959493929190612576565b60405180910390a38015611764575f6116c560208a018a611ecf565b6001600160a01b0316826040515f6040518083038185875af1925050503d805f811461170c576040519150601f19603f3d011682016040523d82523d5f602084013e611711565b606091505b50509050806117625760405162461bcd60e51b815260206004820152601c60248201527f7472616e7366657220746f20726563697069656e74206661696c65640000000060448201526064016103fb565b505b5050505050505050565b604051631c2d8fb360e31b81527fe8438ea868df48e3fc21f2f087b993c9b1837dc0f6135064161ce7d7a1701fe860048201525f907f00000000000000000000000000000000000000000000000000000000000000006001600160a01b03169063e16c7d98906024015b602060405180830381865afa1580156117f3573d5f5f3e3d5ffd5b505050506040513d601f19601f8201168201806040525081019061181791906125a1565b905090565b604051631c2d8fb360e31b81527f2517d59a36a86548e38734e8ab416f42afff4bca78706a66ad65750dae7f9e3760048201525f907f00000000000000000000000000000000000000000000000000000000000000006001600160a01b03169063e16c7d98906024016117d8565b604081146118da5760405162461bcd60e51b815260206004820152601860248201527f61757844617461206d757374206265203634206279746573000000000000000060448201526064016103fb565b5f806118e883850185611f3f565b91509150846001600160a01b0316638a19c8bc6040518163ffffffff1660e01b8152600401602060405180830381865afa158015611928573d5f5f3e3d5ffd5b505050506040513d601f19601f8201168201806040525081019061194c91906122cf565b5f5461195890846122fa565b116119995760405162461bcd60e51b81526020600482015260116024820152701d1a58dad95d081a5cc8195e1c1a5c9959607a1b60448201526064016103fb565b604051630ea92b7560e21b8152600481018390525f906001600160a01b03871690633aa4add490602401602060405180830381865afa1580156119de573d5f5f3e3d5ffd5b505050506040513d601f19601f82011682018060405250810190611a0291906122cf565b905080611a5b5760405162461bcd60e51b815260206004820152602160248201527f6372656174696f6e20726f756e64206973206e6f7420696e697469616c697a656044820152601960fa1b60648201526084016103fb565b818114611ac65760405162461bcd60e51b815260206004820152603360248201527f6372656174696f6e526f756e64426c6f636b4861736820697320696e76616c696044820152721908199bdc8818dc99585d1a5bdb949bdd5b99606a1b60648201526084016103fb565b505050505050565b60418214611b1e5760405162461bcd60e51b815260206004820152601a60248201527f7369676e6174757265206d75737420626520363520627974657300000000000060448201526064016103fb565b5f611b2c60208285876125bc565b611b35916125e3565b90505f611b466040602086886125bc565b611b4f916125e3565b90505f85856040818110611b6557611b656123c5565b919091013560f81c915050601b811480611b8257508060ff16601c145b611bce5760405162461bcd60e51b815260206004820152601c60248201527f7369676e61747572652076206d757374206265203237206f722032380000000060448201526064016103fb565b7f7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0821115611c515760405162461bcd60e51b815260206004820152602a60248201527f7369676e61747572652073206973206e6f7420696e20746865206c6f776572206044820152693430b6331037b93232b960b11b60648201526084016103fb565b6040517f19457468657265756d205369676e6564204d6573736167653a0a3332000000006020820152603c81018890525f90605c0160408051601f1981840301815282825280516020918201205f80855291840180845281905260ff86169284019290925260608301879052608083018690529092509060019060a0016020604051602081039080840390855afa158015611cee573d5f5f3e3d5ffd5b5050604051601f1901519150506001600160a01b03811615801590611d245750856001600160a01b0316816001600160a01b0316145b6117625760405162461bcd60e51b815260206004820152602260248201527f696e76616c6964207369676e6174757265206f766572207469636b65742068616044820152610e6d60f31b60648201526084016103fb565b6001600160a01b0384165f9081526004602052604081205481611d9e87876108ff565b905084811115611dab5750835b81811115611db65750805b805f03611dc7575f92505050611ea0565b611dd1818361234b565b6001600160a01b0388165f908152600460209081526040808320939093556005815282822087835290529081208054839290611e0e9084906122fa565b90915550506001600160a01b038088165f9081526006602090815260408083208884528252808320938a1683529290529081208054839290611e519084906122fa565b9091555050604080516001600160a01b038881168252602082018490528916917f5c2b394723f408a40a60335e24b71829642e35f350cebe2036a96a66e895ea98910160405180910390a29150505b949350505050565b6001600160a01b0381168114611ebc575f5ffd5b50565b8035611eca81611ea8565b919050565b5f60208284031215611edf575f5ffd5b8135611eea81611ea8565b9392505050565b5f60208284031215611f01575f5ffd5b5035919050565b5f5f60408385031215611f19575f5ffd5b8235611f2481611ea8565b91506020830135611f3481611ea8565b809150509250929050565b5f5f60408385031215611f50575f5ffd5b50508035926020909101359150565b634e487b7160e01b5f52604160045260245ffd5b60405160e081016001600160401b0381118282101715611f9557611f95611f5f565b60405290565b5f82601f830112611faa575f5ffd5b81356001600160401b03811115611fc357611fc3611f5f565b604051601f8201601f19908116603f011681016001600160401b0381118282101715611ff157611ff1611f5f565b604052818152838201602001851015612008575f5ffd5b816020850160208301375f918101602001919091529392505050565b5f60e08284031215612034575f5ffd5b61203c611f73565b905061204782611ebf565b815261205560208301611ebf565b602082015260408281013590820152606080830135908201526080808301359082015260a0808301359082015260c08201356001600160401b0381111561209a575f5ffd5b6120a684828501611f9b565b60c08301525092915050565b5f602082840312156120c2575f5ffd5b81356001600160401b038111156120d7575f5ffd5b611ea084828501612024565b5f5f83601f8401126120f3575f5ffd5b5081356001600160401b03811115612109575f5ffd5b6020830191508360208260051b8501011115612123575f5ffd5b9250929050565b5f5f5f5f5f5f6060878903121561213f575f5ffd5b86356001600160401b03811115612154575f5ffd5b61216089828a016120e3565b90975095505060208701356001600160401b0381111561217e575f5ffd5b61218a89828a016120e3565b90955093505060408701356001600160401b038111156121a8575f5ffd5b6121b489828a016120e3565b979a9699509497509295939492505050565b825181526020808401518183015282516040830152820151606082015260808101611eea565b5f5f5f5f606085870312156121ff575f5ffd5b84356001600160401b03811115612214575f5ffd5b850160e08188031215612225575f5ffd5b935060208501356001600160401b0381111561223f575f5ffd5b8501601f8101871361224f575f5ffd5b80356001600160401b03811115612264575f5ffd5b876020828401011115612275575f5ffd5b949760209190910196509394604001359392505050565b60208082526023908201527f73656e646572206465706f73697420616e64207265736572766520617265207a60408201526265726f60e81b606082015260800190565b5f602082840312156122df575f5ffd5b5051919050565b634e487b7160e01b5f52601160045260245ffd5b80820180821115610729576107296122e6565b5f6020828403121561231d575f5ffd5b81518015158114611eea575f5ffd5b5f8261234657634e487b7160e01b5f52601260045260245ffd5b500490565b81810381811115610729576107296122e6565b6bffffffffffffffffffffffff198860601b1681526bffffffffffffffffffffffff198760601b1660148201528560288201528460488201528360688201528260888201525f8251806020850160a885015e5f920160a80191825250979650505050505050565b634e487b7160e01b5f52603260045260245ffd5b5f823560de198336030181126123ed575f5ffd5b9190910192915050565b5f5f8335601e1984360301811261240c575f5ffd5b8301803591506001600160401b03821115612425575f5ffd5b602001915036819003821315612123575f5ffd5b5f5f8335601e1984360301811261244e575f5ffd5b83016020810192503590506001600160401b0381111561246c575f5ffd5b803603821315612123575f5ffd5b81835281816020850137505f828201602090810191909152601f909101601f19169091010190565b606081525f85356124b281611ea8565b6001600160a01b0316606083015260208601356124ce81611ea8565b6001600160a01b0316608083810191909152604087013560a084810191909152606088013560c0808601919091529188013560e085015287013561010084015261251a90870187612439565b60e06101208501526125316101408501828461247a565b915050828103602084015261254781868861247a565b91505082604083015295945050505050565b5f6107293683612024565b82848237909101908152602001919050565b86815285602082015284604082015283606082015260a060808201525f610aec60a08301848661247a565b5f602082840312156125b1575f5ffd5b8151611eea81611ea8565b5f5f858511156125ca575f5ffd5b838611156125d6575f5ffd5b5050820193919092039150565b80356020831015610729575f19602084900360031b1b169291505056",
}

// TicketBrokerABI is the input ABI used to generate the binding from.
// Deprecated: Use TicketBrokerMetaData.ABI instead.
var TicketBrokerABI = TicketBrokerMetaData.ABI

// TicketBrokerBin is the compiled bytecode used for deploying new contracts.
// Deprecated: Use TicketBrokerMetaData.Bin instead.
var TicketBrokerBin = TicketBrokerMetaData.Bin

// DeployTicketBroker deploys a new Ethereum contract, binding an instance of TicketBroker to it.
func DeployTicketBroker(auth *bind.TransactOpts, backend bind.ContractBackend, controllerAddress common.Address) (common.Address, *types.Transaction, *TicketBroker, error) {
	parsed, err := TicketBrokerMetaData.GetAbi()
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	if parsed == nil {
		return common.Address{}, nil, nil, errors.New("GetABI returned nil")
	}

	address, tx, contract, err := bind.DeployContract(auth, *parsed, common.FromHex(TicketBrokerBin), backend, controllerAddress)
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	return address, tx, &TicketBroker{TicketBrokerCaller: TicketBrokerCaller{contract: contract}, TicketBrokerTransactor: TicketBrokerTransactor{contract: contract}, TicketBrokerFilterer: TicketBrokerFilterer{contract: contract}}, nil
}

// TicketBroker is an auto generated Go binding around an Ethereum contract.
type TicketBroker struct {
	TicketBrokerCaller     // Read-only binding to the contract
	TicketBrokerTransactor // Write-only binding to the contract
	TicketBrokerFilterer   // Log filterer for contract events
}

// TicketBrokerCaller is an auto generated read-only Go binding around an Ethereum contract.
type TicketBrokerCaller struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// TicketBrokerTransactor is an auto generated write-only Go binding around an Ethereum contract.
type TicketBrokerTransactor struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// TicketBrokerFilterer is an auto generated log filtering Go binding around an Ethereum contract events.
type TicketBrokerFilterer struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// TicketBrokerSession is an auto generated Go binding around an Ethereum contract,
// with pre-set call and transact options.
type TicketBrokerSession struct {
	Contract     *TicketBroker     // Generic contract binding to set the session for
	CallOpts     bind.CallOpts     // Call options to use throughout this session
	TransactOpts bind.TransactOpts // Transaction auth options to use throughout this session
}

// TicketBrokerCallerSession is an auto generated read-only Go binding around an Ethereum contract,
// with pre-set call options.
type TicketBrokerCallerSession struct {
	Contract *TicketBrokerCaller // Generic contract caller binding to set the session for
	CallOpts bind.CallOpts       // Call options to use throughout this session
}

// TicketBrokerTransactorSession is an auto generated write-only Go binding around an Ethereum contract,
// with pre-set transact options.
type TicketBrokerTransactorSession struct {
	Contract     *TicketBrokerTransactor // Generic contract transactor binding to set the session for
	TransactOpts bind.TransactOpts       // Transaction auth options to use throughout this session
}

// TicketBrokerRaw is an auto generated low-level Go binding around an Ethereum contract.
type TicketBrokerRaw struct {
	Contract *TicketBroker // Generic contract binding to access the raw methods on
}

// TicketBrokerCallerRaw is an auto generated low-level read-only Go binding around an Ethereum contract.
type TicketBrokerCallerRaw struct {
	Contract *TicketBrokerCaller // Generic read-only contract binding to access the raw methods on
}

// TicketBrokerTransactorRaw is an auto generated low-level write-only Go binding around an Ethereum contract.
type TicketBrokerTransactorRaw struct {
	Contract *TicketBrokerTransactor // Generic write-only contract binding to access the raw methods on
}

// NewTicketBroker creates a new instance of TicketBroker, bound to a specific deployed contract.
func NewTicketBroker(address common.Address, backend bind.ContractBackend) (*TicketBroker, error) {
	contract, err := bindTicketBroker(address, backend, backend, backend)
	if err != nil {
		return nil, err
	}
	return &TicketBroker{TicketBrokerCaller: TicketBrokerCaller{contract: contract}, TicketBrokerTransactor: TicketBrokerTransactor{contract: contract}, TicketBrokerFilterer: TicketBrokerFilterer{contract: contract}}, nil
}

// NewTicketBrokerCaller creates a new read-only instance of TicketBroker, bound to a specific deployed contract.
func NewTicketBrokerCaller(address common.Address, caller bind.ContractCaller) (*TicketBrokerCaller, error) {
	contract, err := bindTicketBroker(address, caller, nil, nil)
	if err != nil {
		return nil, err
	}
	return &TicketBrokerCaller{contract: contract}, nil
}

// NewTicketBrokerTransactor creates a new write-only instance of TicketBroker, bound to a specific deployed contract.
func NewTicketBrokerTransactor(address common.Address, transactor bind.ContractTransactor) (*TicketBrokerTransactor, error) {
	contract, err := bindTicketBroker(address, nil, transactor, nil)
	if err != nil {
		return nil, err
	}
	return &TicketBrokerTransactor{contract: contract}, nil
}

// NewTicketBrokerFilterer creates a new log filterer instance of TicketBroker, bound to a specific deployed contract.
func NewTicketBrokerFilterer(address common.Address, filterer bind.ContractFilterer) (*TicketBrokerFilterer, error) {
	contract, err := bindTicketBroker(address, nil, nil, filterer)
	if err != nil {
		return nil, err
	}
	return &TicketBrokerFilterer{contract: contract}, nil
}

// bindTicketBroker binds a generic wrapper to an already deployed contract.
func bindTicketBroker(address common.Address, caller bind.ContractCaller, transactor bind.ContractTransactor, filterer bind.ContractFilterer) (*bind.BoundContract, error) {
	parsed, err := TicketBrokerMetaData.GetAbi()
	if err != nil {
		return nil, err
	}
	return bind.NewBoundContract(address, *parsed, caller, transactor, filterer), nil
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_TicketBroker *TicketBrokerRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _TicketBroker.Contract.TicketBrokerCaller.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_TicketBroker *TicketBrokerRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _TicketBroker.Contract.TicketBrokerTransactor.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_TicketBroker *TicketBrokerRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _TicketBroker.Contract.TicketBrokerTransactor.contract.Transact(opts, method, params...)
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_TicketBroker *TicketBrokerCallerRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _TicketBroker.Contract.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_TicketBroker *TicketBrokerTransactorRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _TicketBroker.Contract.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_TicketBroker *TicketBrokerTransactorRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _TicketBroker.Contract.contract.Transact(opts, method, params...)
}

// ClaimableReserve is a free data retrieval call binding the contract method 0x81779f38.
//
// Solidity: function claimableReserve(address reserveHolder, address claimant) view returns(uint256)
func (_TicketBroker *TicketBrokerCaller) ClaimableReserve(opts *bind.CallOpts, reserveHolder common.Address, claimant common.Address) (*big.Int, error) {
	var out []interface{}
	err := _TicketBroker.contract.Call(opts, &out, "claimableReserve", reserveHolder, claimant)

	if err != nil {
		return *new(*big.Int), err
	}

	out0 := *abi.ConvertType(out[0], new(*big.Int)).(**big.Int)

	return out0, err

}

// ClaimableReserve is a free data retrieval call binding the contract method 0x81779f38.
//
// Solidity: function claimableReserve(address reserveHolder, address claimant) view returns(uint256)
func (_TicketBroker *TicketBrokerSession) ClaimableReserve(reserveHolder common.Address, claimant common.Address) (*big.Int, error) {
	return _TicketBroker.Contract.ClaimableReserve(&_TicketBroker.CallOpts, reserveHolder, claimant)
}

// ClaimableReserve is a free data retrieval call binding the contract method 0x81779f38.
//
// Solidity: function claimableReserve(address reserveHolder, address claimant) view returns(uint256)
func (_TicketBroker *TicketBrokerCallerSession) ClaimableReserve(reserveHolder common.Address, claimant common.Address) (*big.Int, error) {
	return _TicketBroker.Contract.ClaimableReserve(&_TicketBroker.CallOpts, reserveHolder, claimant)
}

// ClaimedReserve is a free data retrieval call binding the contract method 0x4ac826da.
//
// Solidity: function claimedReserve(address reserveHolder, address claimant) view returns(uint256)
func (_TicketBroker *TicketBrokerCaller) ClaimedReserve(opts *bind.CallOpts, reserveHolder common.Address, claimant common.Address) (*big.Int, error) {
	var out []interface{}
	err := _TicketBroker.contract.Call(opts, &out, "claimedReserve", reserveHolder, claimant)

	if err != nil {
		return *new(*big.Int), err
	}

	out0 := *abi.ConvertType(out[0], new(*big.Int)).(**big.Int)

	return out0, err

}

// ClaimedReserve is a free data retrieval call binding the contract method 0x4ac826da.
//
// Solidity: function claimedReserve(address reserveHolder, address claimant) view returns(uint256)
func (_TicketBroker *TicketBrokerSession) ClaimedReserve(reserveHolder common.Address, claimant common.Address) (*big.Int, error) {
	return _TicketBroker.Contract.ClaimedReserve(&_TicketBroker.CallOpts, reserveHolder, claimant)
}

// ClaimedReserve is a free data retrieval call binding the contract method 0x4ac826da.
//
// Solidity: function claimedReserve(address reserveHolder, address claimant) view returns(uint256)
func (_TicketBroker *TicketBrokerCallerSession) ClaimedReserve(reserveHolder common.Address, claimant common.Address) (*big.Int, error) {
	return _TicketBroker.Contract.ClaimedReserve(&_TicketBroker.CallOpts, reserveHolder, claimant)
}

// Controller is a free data retrieval call binding the contract method 0xf77c4791.
//
// Solidity: function controller() view returns(address)
func (_TicketBroker *TicketBrokerCaller) Controller(opts *bind.CallOpts) (common.Address, error) {
	var out []interface{}
	err := _TicketBroker.contract.Call(opts, &out, "controller")

	if err != nil {
		return *new(common.Address), err
	}

	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)

	return out0, err

}

// Controller is a free data retrieval call binding the contract method 0xf77c4791.
//
// Solidity: function controller() view returns(address)
func (_TicketBroker *TicketBrokerSession) Controller() (common.Address, error) {
	return _TicketBroker.Contract.Controller(&_TicketBroker.CallOpts)
}

// Controller is a free data retrieval call binding the contract method 0xf77c4791.
//
// Solidity: function controller() view returns(address)
func (_TicketBroker *TicketBrokerCallerSession) Controller() (common.Address, error) {
	return _TicketBroker.Contract.Controller(&_TicketBroker.CallOpts)
}

// GetSenderInfo is a free data retrieval call binding the contract method 0xe1a589da.
//
// Solidity: function getSenderInfo(address sender) view returns((uint256,uint256) info, (uint256,uint256) reserve)
func (_TicketBroker *TicketBrokerCaller) GetSenderInfo(opts *bind.CallOpts, sender common.Address) (struct {
	Info    TicketBrokerSender
	Reserve TicketBrokerReserveInfo
}, error) {
	var out []interface{}
	err := _TicketBroker.contract.Call(opts, &out, "getSenderInfo", sender)

	outstruct := new(struct {
		Info    TicketBrokerSender
		Reserve TicketBrokerReserveInfo
	})
	if err != nil {
		return *outstruct, err
	}

	outstruct.Info = *abi.ConvertType(out[0], new(TicketBrokerSender)).(*TicketBrokerSender)
	outstruct.Reserve = *abi.ConvertType(out[1], new(TicketBrokerReserveInfo)).(*TicketBrokerReserveInfo)

	return *outstruct, err

}

// GetSenderInfo is a free data retrieval call binding the contract method 0xe1a589da.
//
// Solidity: function getSenderInfo(address sender) view returns((uint256,uint256) info, (uint256,uint256) reserve)
func (_TicketBroker *TicketBrokerSession) GetSenderInfo(sender common.Address) (struct {
	Info    TicketBrokerSender
	Reserve TicketBrokerReserveInfo
}, error) {
	return _TicketBroker.Contract.GetSenderInfo(&_TicketBroker.CallOpts, sender)
}

// GetSenderInfo is a free data retrieval call binding the contract method 0xe1a589da.
//
// Solidity: function getSenderInfo(address sender) view returns((uint256,uint256) info, (uint256,uint256) reserve)
func (_TicketBroker *TicketBrokerCallerSession) GetSenderInfo(sender common.Address) (struct {
	Info    TicketBrokerSender
	Reserve TicketBrokerReserveInfo
}, error) {
	return _TicketBroker.Contract.GetSenderInfo(&_TicketBroker.CallOpts, sender)
}

// GetTicketHash is a free data retrieval call binding the contract method 0xb03fa864.
//
// Solidity: function getTicketHash((address,address,uint256,uint256,uint256,bytes32,bytes) ticket) pure returns(bytes32)
func (_TicketBroker *TicketBrokerCaller) GetTicketHash(opts *bind.CallOpts, ticket TicketBrokerTicket) ([32]byte, error) {
	var out []interface{}
	err := _TicketBroker.contract.Call(opts, &out, "getTicketHash", ticket)

	if err != nil {
		return *new([32]byte), err
	}

	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)

	return out0, err

}

// GetTicketHash is a free data retrieval call binding the contract method 0xb03fa864.
//
// Solidity: function getTicketHash((address,address,uint256,uint256,uint256,bytes32,bytes) ticket) pure returns(bytes32)
func (_TicketBroker *TicketBrokerSession) GetTicketHash(ticket TicketBrokerTicket) ([32]byte, error) {
	return _TicketBroker.Contract.GetTicketHash(&_TicketBroker.CallOpts, ticket)
}

// GetTicketHash is a free data retrieval call binding the contract method 0xb03fa864.
//
// Solidity: function getTicketHash((address,address,uint256,uint256,uint256,bytes32,bytes) ticket) pure returns(bytes32)
func (_TicketBroker *TicketBrokerCallerSession) GetTicketHash(ticket TicketBrokerTicket) ([32]byte, error) {
	return _TicketBroker.Contract.GetTicketHash(&_TicketBroker.CallOpts, ticket)
}

// IsUnlockInProgress is a free data retrieval call binding the contract method 0x121cdcc2.
//
// Solidity: function isUnlockInProgress(address sender) view returns(bool)
func (_TicketBroker *TicketBrokerCaller) IsUnlockInProgress(opts *bind.CallOpts, sender common.Address) (bool, error) {
	var out []interface{}
	err := _TicketBroker.contract.Call(opts, &out, "isUnlockInProgress", sender)

	if err != nil {
		return *new(bool), err
	}

	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)

	return out0, err

}

// IsUnlockInProgress is a free data retrieval call binding the contract method 0x121cdcc2.
//
// Solidity: function isUnlockInProgress(address sender) view returns(bool)
func (_TicketBroker *TicketBrokerSession) IsUnlockInProgress(sender common.Address) (bool, error) {
	return _TicketBroker.Contract.IsUnlockInProgress(&_TicketBroker.CallOpts, sender)
}

// IsUnlockInProgress is a free data retrieval call binding the contract method 0x121cdcc2.
//
// Solidity: function isUnlockInProgress(address sender) view returns(bool)
func (_TicketBroker *TicketBrokerCallerSession) IsUnlockInProgress(sender common.Address) (bool, error) {
	return _TicketBroker.Contract.IsUnlockInProgress(&_TicketBroker.CallOpts, sender)
}

// Owner is a free data retrieval call binding the contract method 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (_TicketBroker *TicketBrokerCaller) Owner(opts *bind.CallOpts) (common.Address, error) {
	var out []interface{}
	err := _TicketBroker.contract.Call(opts, &out, "owner")

	if err != nil {
		return *new(common.Address), err
	}

	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)

	return out0, err

}

// Owner is a free data retrieval call binding the contract method 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (_TicketBroker *TicketBrokerSession) Owner() (common.Address, error) {
	return _TicketBroker.Contract.Owner(&_TicketBroker.CallOpts)
}

// Owner is a free data retrieval call binding the contract method 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (_TicketBroker *TicketBrokerCallerSession) Owner() (common.Address, error) {
	return _TicketBroker.Contract.Owner(&_TicketBroker.CallOpts)
}

// TicketValidityPeriod is a free data retrieval call binding the contract method 0x856a2cf8.
//
// Solidity: function ticketValidityPeriod() view returns(uint256)
func (_TicketBroker *TicketBrokerCaller) TicketValidityPeriod(opts *bind.CallOpts) (*big.Int, error) {
	var out []interface{}
	err := _TicketBroker.contract.Call(opts, &out, "ticketValidityPeriod")

	if err != nil {
		return *new(*big.Int), err
	}

	out0 := *abi.ConvertType(out[0], new(*big.Int)).(**big.Int)

	return out0, err

}

// TicketValidityPeriod is a free data retrieval call binding the contract method 0x856a2cf8.
//
// Solidity: function ticketValidityPeriod() view returns(uint256)
func (_TicketBroker *TicketBrokerSession) TicketValidityPeriod() (*big.Int, error) {
	return _TicketBroker.Contract.TicketValidityPeriod(&_TicketBroker.CallOpts)
}

// TicketValidityPeriod is a free data retrieval call binding the contract method 0x856a2cf8.
//
// Solidity: function ticketValidityPeriod() view returns(uint256)
func (_TicketBroker *TicketBrokerCallerSession) TicketValidityPeriod() (*big.Int, error) {
	return _TicketBroker.Contract.TicketValidityPeriod(&_TicketBroker.CallOpts)
}

// UnlockPeriod is a free data retrieval call binding the contract method 0x20d3a0b4.
//
// Solidity: function unlockPeriod() view returns(uint256)
func (_TicketBroker *TicketBrokerCaller) UnlockPeriod(opts *bind.CallOpts) (*big.Int, error) {
	var out []interface{}
	err := _TicketBroker.contract.Call(opts, &out, "unlockPeriod")

	if err != nil {
		return *new(*big.Int), err
	}

	out0 := *abi.ConvertType(out[0], new(*big.Int)).(**big.Int)

	return out0, err

}

// UnlockPeriod is a free data retrieval call binding the contract method 0x20d3a0b4.
//
// Solidity: function unlockPeriod() view returns(uint256)
func (_TicketBroker *TicketBrokerSession) UnlockPeriod() (*big.Int, error) {
	return _TicketBroker.Contract.UnlockPeriod(&_TicketBroker.CallOpts)
}

// UnlockPeriod is a free data retrieval call binding the contract method 0x20d3a0b4.
//
// Solidity: function unlockPeriod() view returns(uint256)
func (_TicketBroker *TicketBrokerCallerSession) UnlockPeriod() (*big.Int, error) {
	return _TicketBroker.Contract.UnlockPeriod(&_TicketBroker.CallOpts)
}

// UsedTickets is a free data retrieval call binding the contract method 0x59a515ba.
//
// Solidity: function usedTickets(bytes32 ) view returns(bool)
func (_TicketBroker *TicketBrokerCaller) UsedTickets(opts *bind.CallOpts, arg0 [32]byte) (bool, error) {
	var out []interface{}
	err := _TicketBroker.contract.Call(opts, &out, "usedTickets", arg0)

	if err != nil {
		return *new(bool), err
	}

	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)

	return out0, err

}

// UsedTickets is a free data retrieval call binding the contract method 0x59a515ba.
//
// Solidity: function usedTickets(bytes32 ) view returns(bool)
func (_TicketBroker *TicketBrokerSession) UsedTickets(arg0 [32]byte) (bool, error) {
	return _TicketBroker.Contract.UsedTickets(&_TicketBroker.CallOpts, arg0)
}

// UsedTickets is a free data retrieval call binding the contract method 0x59a515ba.
//
// Solidity: function usedTickets(bytes32 ) view returns(bool)
func (_TicketBroker *TicketBrokerCallerSession) UsedTickets(arg0 [32]byte) (bool, error) {
	return _TicketBroker.Contract.UsedTickets(&_TicketBroker.CallOpts, arg0)
}

// BatchRedeemWinningTickets is a paid mutator transaction binding the contract method 0xd01b808e.
//
// Solidity: function batchRedeemWinningTickets((address,address,uint256,uint256,uint256,bytes32,bytes)[] tickets, bytes[] sigs, uint256[] recipientRands) returns()
func (_TicketBroker *TicketBrokerTransactor) BatchRedeemWinningTickets(opts *bind.TransactOpts, tickets []TicketBrokerTicket, sigs [][]byte, recipientRands []*big.Int) (*types.Transaction, error) {
	return _TicketBroker.contract.Transact(opts, "batchRedeemWinningTickets", tickets, sigs, recipientRands)
}

// BatchRedeemWinningTickets is a paid mutator transaction binding the contract method 0xd01b808e.
//
// Solidity: function batchRedeemWinningTickets((address,address,uint256,uint256,uint256,bytes32,bytes)[] tickets, bytes[] sigs, uint256[] recipientRands) returns()
func (_TicketBroker *TicketBrokerSession) BatchRedeemWinningTickets(tickets []TicketBrokerTicket, sigs [][]byte, recipientRands []*big.Int) (*types.Transaction, error) {
	return _TicketBroker.Contract.BatchRedeemWinningTickets(&_TicketBroker.TransactOpts, tickets, sigs, recipientRands)
}

// BatchRedeemWinningTickets is a paid mutator transaction binding the contract method 0xd01b808e.
//
// Solidity: function batchRedeemWinningTickets((address,address,uint256,uint256,uint256,bytes32,bytes)[] tickets, bytes[] sigs, uint256[] recipientRands) returns()
func (_TicketBroker *TicketBrokerTransactorSession) BatchRedeemWinningTickets(tickets []TicketBrokerTicket, sigs [][]byte, recipientRands []*big.Int) (*types.Transaction, error) {
	return _TicketBroker.Contract.BatchRedeemWinningTickets(&_TicketBroker.TransactOpts, tickets, sigs, recipientRands)
}

// CancelUnlock is a paid mutator transaction binding the contract method 0xc2c4c2c8.
//
// Solidity: function cancelUnlock() returns()
func (_TicketBroker *TicketBrokerTransactor) CancelUnlock(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _TicketBroker.contract.Transact(opts, "cancelUnlock")
}

// CancelUnlock is a paid mutator transaction binding the contract method 0xc2c4c2c8.
//
// Solidity: function cancelUnlock() returns()
func (_TicketBroker *TicketBrokerSession) CancelUnlock() (*types.Transaction, error) {
	return _TicketBroker.Contract.CancelUnlock(&_TicketBroker.TransactOpts)
}

// CancelUnlock is a paid mutator transaction binding the contract method 0xc2c4c2c8.
//
// Solidity: function cancelUnlock() returns()
func (_TicketBroker *TicketBrokerTransactorSession) CancelUnlock() (*types.Transaction, error) {
	return _TicketBroker.Contract.CancelUnlock(&_TicketBroker.TransactOpts)
}

// FundDeposit is a paid mutator transaction binding the contract method 0x6caa736b.
//
// Solidity: function fundDeposit() payable returns()
func (_TicketBroker *TicketBrokerTransactor) FundDeposit(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _TicketBroker.contract.Transact(opts, "fundDeposit")
}

// FundDeposit is a paid mutator transaction binding the contract method 0x6caa736b.
//
// Solidity: function fundDeposit() payable returns()
func (_TicketBroker *TicketBrokerSession) FundDeposit() (*types.Transaction, error) {
	return _TicketBroker.Contract.FundDeposit(&_TicketBroker.TransactOpts)
}

// FundDeposit is a paid mutator transaction binding the contract method 0x6caa736b.
//
// Solidity: function fundDeposit() payable returns()
func (_TicketBroker *TicketBrokerTransactorSession) FundDeposit() (*types.Transaction, error) {
	return _TicketBroker.Contract.FundDeposit(&_TicketBroker.TransactOpts)
}

// FundDepositAndReserve is a paid mutator transaction binding the contract method 0x511f4073.
//
// Solidity: function fundDepositAndReserve(uint256 depositAmount, uint256 reserveAmount) payable returns()
func (_TicketBroker *TicketBrokerTransactor) FundDepositAndReserve(opts *bind.TransactOpts, depositAmount *big.Int, reserveAmount *big.Int) (*types.Transaction, error) {
	return _TicketBroker.contract.Transact(opts, "fundDepositAndReserve", depositAmount, reserveAmount)
}

// FundDepositAndReserve is a paid mutator transaction binding the contract method 0x511f4073.
//
// Solidity: function fundDepositAndReserve(uint256 depositAmount, uint256 reserveAmount) payable returns()
func (_TicketBroker *TicketBrokerSession) FundDepositAndReserve(depositAmount *big.Int, reserveAmount *big.Int) (*types.Transaction, error) {
	return _TicketBroker.Contract.FundDepositAndReserve(&_TicketBroker.TransactOpts, depositAmount, reserveAmount)
}

// FundDepositAndReserve is a paid mutator transaction binding the contract method 0x511f4073.
//
// Solidity: function fundDepositAndReserve(uint256 depositAmount, uint256 reserveAmount) payable returns()
func (_TicketBroker *TicketBrokerTransactorSession) FundDepositAndReserve(depositAmount *big.Int, reserveAmount *big.Int) (*types.Transaction, error) {
	return _TicketBroker.Contract.FundDepositAndReserve(&_TicketBroker.TransactOpts, depositAmount, reserveAmount)
}

// FundReserve is a paid mutator transaction binding the contract method 0x6f9c3c8f.
//
// Solidity: function fundReserve() payable returns()
func (_TicketBroker *TicketBrokerTransactor) FundReserve(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _TicketBroker.contract.Transact(opts, "fundReserve")
}

// FundReserve is a paid mutator transaction binding the contract method 0x6f9c3c8f.
//
// Solidity: function fundReserve() payable returns()
func (_TicketBroker *TicketBrokerSession) FundReserve() (*types.Transaction, error) {
	return _TicketBroker.Contract.FundReserve(&_TicketBroker.TransactOpts)
}

// FundReserve is a paid mutator transaction binding the contract method 0x6f9c3c8f.
//
// Solidity: function fundReserve() payable returns()
func (_TicketBroker *TicketBrokerTransactorSession) FundReserve() (*types.Transaction, error) {
	return _TicketBroker.Contract.FundReserve(&_TicketBroker.TransactOpts)
}

// RedeemWinningTicket is a paid mutator transaction binding the contract method 0xec8b3cb6.
//
// Solidity: function redeemWinningTicket((address,address,uint256,uint256,uint256,bytes32,bytes) ticket, bytes sig, uint256 recipientRand) returns()
func (_TicketBroker *TicketBrokerTransactor) RedeemWinningTicket(opts *bind.TransactOpts, ticket TicketBrokerTicket, sig []byte, recipientRand *big.Int) (*types.Transaction, error) {
	return _TicketBroker.contract.Transact(opts, "redeemWinningTicket", ticket, sig, recipientRand)
}

// RedeemWinningTicket is a paid mutator transaction binding the contract method 0xec8b3cb6.
//
// Solidity: function redeemWinningTicket((address,address,uint256,uint256,uint256,bytes32,bytes) ticket, bytes sig, uint256 recipientRand) returns()
func (_TicketBroker *TicketBrokerSession) RedeemWinningTicket(ticket TicketBrokerTicket, sig []byte, recipientRand *big.Int) (*types.Transaction, error) {
	return _TicketBroker.Contract.RedeemWinningTicket(&_TicketBroker.TransactOpts, ticket, sig, recipientRand)
}

// RedeemWinningTicket is a paid mutator transaction binding the contract method 0xec8b3cb6.
//
// Solidity: function redeemWinningTicket((address,address,uint256,uint256,uint256,bytes32,bytes) ticket, bytes sig, uint256 recipientRand) returns()
func (_TicketBroker *TicketBrokerTransactorSession) RedeemWinningTicket(ticket TicketBrokerTicket, sig []byte, recipientRand *big.Int) (*types.Transaction, error) {
	return _TicketBroker.Contract.RedeemWinningTicket(&_TicketBroker.TransactOpts, ticket, sig, recipientRand)
}

// SetTicketValidityPeriod is a paid mutator transaction binding the contract method 0xc9297808.
//
// Solidity: function setTicketValidityPeriod(uint256 period) returns()
func (_TicketBroker *TicketBrokerTransactor) SetTicketValidityPeriod(opts *bind.TransactOpts, period *big.Int) (*types.Transaction, error) {
	return _TicketBroker.contract.Transact(opts, "setTicketValidityPeriod", period)
}

// SetTicketValidityPeriod is a paid mutator transaction binding the contract method 0xc9297808.
//
// Solidity: function setTicketValidityPeriod(uint256 period) returns()
func (_TicketBroker *TicketBrokerSession) SetTicketValidityPeriod(period *big.Int) (*types.Transaction, error) {
	return _TicketBroker.Contract.SetTicketValidityPeriod(&_TicketBroker.TransactOpts, period)
}

// SetTicketValidityPeriod is a paid mutator transaction binding the contract method 0xc9297808.
//
// Solidity: function setTicketValidityPeriod(uint256 period) returns()
func (_TicketBroker *TicketBrokerTransactorSession) SetTicketValidityPeriod(period *big.Int) (*types.Transaction, error) {
	return _TicketBroker.Contract.SetTicketValidityPeriod(&_TicketBroker.TransactOpts, period)
}

// SetUnlockPeriod is a paid mutator transaction binding the contract method 0x3d0ddf84.
//
// Solidity: function setUnlockPeriod(uint256 period) returns()
func (_TicketBroker *TicketBrokerTransactor) SetUnlockPeriod(opts *bind.TransactOpts, period *big.Int) (*types.Transaction, error) {
	return _TicketBroker.contract.Transact(opts, "setUnlockPeriod", period)
}

// SetUnlockPeriod is a paid mutator transaction binding the contract method 0x3d0ddf84.
//
// Solidity: function setUnlockPeriod(uint256 period) returns()
func (_TicketBroker *TicketBrokerSession) SetUnlockPeriod(period *big.Int) (*types.Transaction, error) {
	return _TicketBroker.Contract.SetUnlockPeriod(&_TicketBroker.TransactOpts, period)
}

// SetUnlockPeriod is a paid mutator transaction binding the contract method 0x3d0ddf84.
//
// Solidity: function setUnlockPeriod(uint256 period) returns()
func (_TicketBroker *TicketBrokerTransactorSession) SetUnlockPeriod(period *big.Int) (*types.Transaction, error) {
	return _TicketBroker.Contract.SetUnlockPeriod(&_TicketBroker.TransactOpts, period)
}

// Unlock is a paid mutator transaction binding the contract method 0xa69df4b5.
//
// Solidity: function unlock() returns()
func (_TicketBroker *TicketBrokerTransactor) Unlock(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _TicketBroker.contract.Transact(opts, "unlock")
}

// Unlock is a paid mutator transaction binding the contract method 0xa69df4b5.
//
// Solidity: function unlock() returns()
func (_TicketBroker *TicketBrokerSession) Unlock() (*types.Transaction, error) {
	return _TicketBroker.Contract.Unlock(&_TicketBroker.TransactOpts)
}

// Unlock is a paid mutator transaction binding the contract method 0xa69df4b5.
//
// Solidity: function unlock() returns()
func (_TicketBroker *TicketBrokerTransactorSession) Unlock() (*types.Transaction, error) {
	return _TicketBroker.Contract.Unlock(&_TicketBroker.TransactOpts)
}

// Withdraw is a paid mutator transaction binding the contract method 0x3ccfd60b.
//
// Solidity: function withdraw() returns()
func (_TicketBroker *TicketBrokerTransactor) Withdraw(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _TicketBroker.contract.Transact(opts, "withdraw")
}

// Withdraw is a paid mutator transaction binding the contract method 0x3ccfd60b.
//
// Solidity: function withdraw() returns()
func (_TicketBroker *TicketBrokerSession) Withdraw() (*types.Transaction, error) {
	return _TicketBroker.Contract.Withdraw(&_TicketBroker.TransactOpts)
}

// Withdraw is a paid mutator transaction binding the contract method 0x3ccfd60b.
//
// Solidity: function withdraw() returns()
func (_TicketBroker *TicketBrokerTransactorSession) Withdraw() (*types.Transaction, error) {
	return _TicketBroker.Contract.Withdraw(&_TicketBroker.TransactOpts)
}

// TicketBrokerDepositFundedIterator is returned from FilterDepositFunded and is used to iterate over the raw logs and unpacked data for DepositFunded events raised by the TicketBroker contract.
type TicketBrokerDepositFundedIterator struct {
	Event *TicketBrokerDepositFunded // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *TicketBrokerDepositFundedIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(TicketBrokerDepositFunded)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(TicketBrokerDepositFunded)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *TicketBrokerDepositFundedIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *TicketBrokerDepositFundedIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// TicketBrokerDepositFunded represents a DepositFunded event raised by the TicketBroker contract.
type TicketBrokerDepositFunded struct {
	Sender common.Address
	Amount *big.Int
	Raw    types.Log // Blockchain specific contextual infos
}

// FilterDepositFunded is a free log retrieval operation binding the contract event 0x5159e237d952190e68d5215430f305831be7c9c8776d1377c76679ae4773413f.
//
// Solidity: event DepositFunded(address indexed sender, uint256 amount)
func (_TicketBroker *TicketBrokerFilterer) FilterDepositFunded(opts *bind.FilterOpts, sender []common.Address) (*TicketBrokerDepositFundedIterator, error) {

	var senderRule []interface{}
	for _, senderItem := range sender {
		senderRule = append(senderRule, senderItem)
	}

	logs, sub, err := _TicketBroker.contract.FilterLogs(opts, "DepositFunded", senderRule)
	if err != nil {
		return nil, err
	}
	return &TicketBrokerDepositFundedIterator{contract: _TicketBroker.contract, event: "DepositFunded", logs: logs, sub: sub}, nil
}

// WatchDepositFunded is a free log subscription operation binding the contract event 0x5159e237d952190e68d5215430f305831be7c9c8776d1377c76679ae4773413f.
//
// Solidity: event DepositFunded(address indexed sender, uint256 amount)
func (_TicketBroker *TicketBrokerFilterer) WatchDepositFunded(opts *bind.WatchOpts, sink chan<- *TicketBrokerDepositFunded, sender []common.Address) (event.Subscription, error) {

	var senderRule []interface{}
	for _, senderItem := range sender {
		senderRule = append(senderRule, senderItem)
	}

	logs, sub, err := _TicketBroker.contract.WatchLogs(opts, "DepositFunded", senderRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(TicketBrokerDepositFunded)
				if err := _TicketBroker.contract.UnpackLog(event, "DepositFunded", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseDepositFunded is a log parse operation binding the contract event 0x5159e237d952190e68d5215430f305831be7c9c8776d1377c76679ae4773413f.
//
// Solidity: event DepositFunded(address indexed sender, uint256 amount)
func (_TicketBroker *TicketBrokerFilterer) ParseDepositFunded(log types.Log) (*TicketBrokerDepositFunded, error) {
	event := new(TicketBrokerDepositFunded)
	if err := _TicketBroker.contract.UnpackLog(event, "DepositFunded", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// TicketBrokerReserveClaimedIterator is returned from FilterReserveClaimed and is used to iterate over the raw logs and unpacked data for ReserveClaimed events raised by the TicketBroker contract.
type TicketBrokerReserveClaimedIterator struct {
	Event *TicketBrokerReserveClaimed // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *TicketBrokerReserveClaimedIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(TicketBrokerReserveClaimed)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(TicketBrokerReserveClaimed)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *TicketBrokerReserveClaimedIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *TicketBrokerReserveClaimedIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// TicketBrokerReserveClaimed represents a ReserveClaimed event raised by the TicketBroker contract.
type TicketBrokerReserveClaimed struct {
	ReserveHolder common.Address
	Claimant      common.Address
	Amount        *big.Int
	Raw           types.Log // Blockchain specific contextual infos
}

// FilterReserveClaimed is a free log retrieval operation binding the contract event 0x5c2b394723f408a40a60335e24b71829642e35f350cebe2036a96a66e895ea98.
//
// Solidity: event ReserveClaimed(address indexed reserveHolder, address claimant, uint256 amount)
func (_TicketBroker *TicketBrokerFilterer) FilterReserveClaimed(opts *bind.FilterOpts, reserveHolder []common.Address) (*TicketBrokerReserveClaimedIterator, error) {

	var reserveHolderRule []interface{}
	for _, reserveHolderItem := range reserveHolder {
		reserveHolderRule = append(reserveHolderRule, reserveHolderItem)
	}

	logs, sub, err := _TicketBroker.contract.FilterLogs(opts, "ReserveClaimed", reserveHolderRule)
	if err != nil {
		return nil, err
	}
	return &TicketBrokerReserveClaimedIterator{contract: _TicketBroker.contract, event: "ReserveClaimed", logs: logs, sub: sub}, nil
}

// WatchReserveClaimed is a free log subscription operation binding the contract event 0x5c2b394723f408a40a60335e24b71829642e35f350cebe2036a96a66e895ea98.
//
// Solidity: event ReserveClaimed(address indexed reserveHolder, address claimant, uint256 amount)
func (_TicketBroker *TicketBrokerFilterer) WatchReserveClaimed(opts *bind.WatchOpts, sink chan<- *TicketBrokerReserveClaimed, reserveHolder []common.Address) (event.Subscription, error) {

	var reserveHolderRule []interface{}
	for _, reserveHolderItem := range reserveHolder {
		reserveHolderRule = append(reserveHolderRule, reserveHolderItem)
	}

	logs, sub, err := _TicketBroker.contract.WatchLogs(opts, "ReserveClaimed", reserveHolderRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(TicketBrokerReserveClaimed)
				if err := _TicketBroker.contract.UnpackLog(event, "ReserveClaimed", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseReserveClaimed is a log parse operation binding the contract event 0x5c2b394723f408a40a60335e24b71829642e35f350cebe2036a96a66e895ea98.
//
// Solidity: event ReserveClaimed(address indexed reserveHolder, address claimant, uint256 amount)
func (_TicketBroker *TicketBrokerFilterer) ParseReserveClaimed(log types.Log) (*TicketBrokerReserveClaimed, error) {
	event := new(TicketBrokerReserveClaimed)
	if err := _TicketBroker.contract.UnpackLog(event, "ReserveClaimed", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// TicketBrokerReserveFundedIterator is returned from FilterReserveFunded and is used to iterate over the raw logs and unpacked data for ReserveFunded events raised by the TicketBroker contract.
type TicketBrokerReserveFundedIterator struct {
	Event *TicketBrokerReserveFunded // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *TicketBrokerReserveFundedIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(TicketBrokerReserveFunded)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(TicketBrokerReserveFunded)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *TicketBrokerReserveFundedIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *TicketBrokerReserveFundedIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// TicketBrokerReserveFunded represents a ReserveFunded event raised by the TicketBroker contract.
type TicketBrokerReserveFunded struct {
	ReserveHolder common.Address
	Amount        *big.Int
	Raw           types.Log // Blockchain specific contextual infos
}

// FilterReserveFunded is a free log retrieval operation binding the contract event 0xb52b99b9e83551fcbd069b559cc3e823e2a1a3bad8ece46561ea77524394c850.
//
// Solidity: event ReserveFunded(address indexed reserveHolder, uint256 amount)
func (_TicketBroker *TicketBrokerFilterer) FilterReserveFunded(opts *bind.FilterOpts, reserveHolder []common.Address) (*TicketBrokerReserveFundedIterator, error) {

	var reserveHolderRule []interface{}
	for _, reserveHolderItem := range reserveHolder {
		reserveHolderRule = append(reserveHolderRule, reserveHolderItem)
	}

	logs, sub, err := _TicketBroker.contract.FilterLogs(opts, "ReserveFunded", reserveHolderRule)
	if err != nil {
		return nil, err
	}
	return &TicketBrokerReserveFundedIterator{contract: _TicketBroker.contract, event: "ReserveFunded", logs: logs, sub: sub}, nil
}

// WatchReserveFunded is a free log subscription operation binding the contract event 0xb52b99b9e83551fcbd069b559cc3e823e2a1a3bad8ece46561ea77524394c850.
//
// Solidity: event ReserveFunded(address indexed reserveHolder, uint256 amount)
func (_TicketBroker *TicketBrokerFilterer) WatchReserveFunded(opts *bind.WatchOpts, sink chan<- *TicketBrokerReserveFunded, reserveHolder []common.Address) (event.Subscription, error) {

	var reserveHolderRule []interface{}
	for _, reserveHolderItem := range reserveHolder {
		reserveHolderRule = append(reserveHolderRule, reserveHolderItem)
	}

	logs, sub, err := _TicketBroker.contract.WatchLogs(opts, "ReserveFunded", reserveHolderRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(TicketBrokerReserveFunded)
				if err := _TicketBroker.contract.UnpackLog(event, "ReserveFunded", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseReserveFunded is a log parse operation binding the contract event 0xb52b99b9e83551fcbd069b559cc3e823e2a1a3bad8ece46561ea77524394c850.
//
// Solidity: event ReserveFunded(address indexed reserveHolder, uint256 amount)
func (_TicketBroker *TicketBrokerFilterer) ParseReserveFunded(log types.Log) (*TicketBrokerReserveFunded, error) {
	event := new(TicketBrokerReserveFunded)
	if err := _TicketBroker.contract.UnpackLog(event, "ReserveFunded", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// TicketBrokerUnlockIterator is returned from FilterUnlock and is used to iterate over the raw logs and unpacked data for Unlock events raised by the TicketBroker contract.
type TicketBrokerUnlockIterator struct {
	Event *TicketBrokerUnlock // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *TicketBrokerUnlockIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(TicketBrokerUnlock)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(TicketBrokerUnlock)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *TicketBrokerUnlockIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *TicketBrokerUnlockIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// TicketBrokerUnlock represents a Unlock event raised by the TicketBroker contract.
type TicketBrokerUnlock struct {
	Sender     common.Address
	StartRound *big.Int
	EndRound   *big.Int
	Raw        types.Log // Blockchain specific contextual infos
}

// FilterUnlock is a free log retrieval operation binding the contract event 0xf7870c5b224cbc19873599e46ccfc7103934650509b1af0c3ce90138377c2004.
//
// Solidity: event Unlock(address indexed sender, uint256 startRound, uint256 endRound)
func (_TicketBroker *TicketBrokerFilterer) FilterUnlock(opts *bind.FilterOpts, sender []common.Address) (*TicketBrokerUnlockIterator, error) {

	var senderRule []interface{}
	for _, senderItem := range sender {
		senderRule = append(senderRule, senderItem)
	}

	logs, sub, err := _TicketBroker.contract.FilterLogs(opts, "Unlock", senderRule)
	if err != nil {
		return nil, err
	}
	return &TicketBrokerUnlockIterator{contract: _TicketBroker.contract, event: "Unlock", logs: logs, sub: sub}, nil
}

// WatchUnlock is a free log subscription operation binding the contract event 0xf7870c5b224cbc19873599e46ccfc7103934650509b1af0c3ce90138377c2004.
//
// Solidity: event Unlock(address indexed sender, uint256 startRound, uint256 endRound)
func (_TicketBroker *TicketBrokerFilterer) WatchUnlock(opts *bind.WatchOpts, sink chan<- *TicketBrokerUnlock, sender []common.Address) (event.Subscription, error) {

	var senderRule []interface{}
	for _, senderItem := range sender {
		senderRule = append(senderRule, senderItem)
	}

	logs, sub, err := _TicketBroker.contract.WatchLogs(opts, "Unlock", senderRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(TicketBrokerUnlock)
				if err := _TicketBroker.contract.UnpackLog(event, "Unlock", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseUnlock is a log parse operation binding the contract event 0xf7870c5b224cbc19873599e46ccfc7103934650509b1af0c3ce90138377c2004.
//
// Solidity: event Unlock(address indexed sender, uint256 startRound, uint256 endRound)
func (_TicketBroker *TicketBrokerFilterer) ParseUnlock(log types.Log) (*TicketBrokerUnlock, error) {
	event := new(TicketBrokerUnlock)
	if err := _TicketBroker.contract.UnpackLog(event, "Unlock", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// TicketBrokerUnlockCancelledIterator is returned from FilterUnlockCancelled and is used to iterate over the raw logs and unpacked data for UnlockCancelled events raised by the TicketBroker contract.
type TicketBrokerUnlockCancelledIterator struct {
	Event *TicketBrokerUnlockCancelled // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *TicketBrokerUnlockCancelledIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(TicketBrokerUnlockCancelled)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(TicketBrokerUnlockCancelled)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *TicketBrokerUnlockCancelledIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *TicketBrokerUnlockCancelledIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// TicketBrokerUnlockCancelled represents a UnlockCancelled event raised by the TicketBroker contract.
type TicketBrokerUnlockCancelled struct {
	Sender common.Address
	Raw    types.Log // Blockchain specific contextual infos
}

// FilterUnlockCancelled is a free log retrieval operation binding the contract event 0xfa044b7b93a40365dc68049797c2eb06918523d694e5d56e406cac3eb35578e5.
//
// Solidity: event UnlockCancelled(address indexed sender)
func (_TicketBroker *TicketBrokerFilterer) FilterUnlockCancelled(opts *bind.FilterOpts, sender []common.Address) (*TicketBrokerUnlockCancelledIterator, error) {

	var senderRule []interface{}
	for _, senderItem := range sender {
		senderRule = append(senderRule, senderItem)
	}

	logs, sub, err := _TicketBroker.contract.FilterLogs(opts, "UnlockCancelled", senderRule)
	if err != nil {
		return nil, err
	}
	return &TicketBrokerUnlockCancelledIterator{contract: _TicketBroker.contract, event: "UnlockCancelled", logs: logs, sub: sub}, nil
}

// WatchUnlockCancelled is a free log subscription operation binding the contract event 0xfa044b7b93a40365dc68049797c2eb06918523d694e5d56e406cac3eb35578e5.
//
// Solidity: event UnlockCancelled(address indexed sender)
func (_TicketBroker *TicketBrokerFilterer) WatchUnlockCancelled(opts *bind.WatchOpts, sink chan<- *TicketBrokerUnlockCancelled, sender []common.Address) (event.Subscription, error) {

	var senderRule []interface{}
	for _, senderItem := range sender {
		senderRule = append(senderRule, senderItem)
	}

	logs, sub, err := _TicketBroker.contract.WatchLogs(opts, "UnlockCancelled", senderRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(TicketBrokerUnlockCancelled)
				if err := _TicketBroker.contract.UnpackLog(event, "UnlockCancelled", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseUnlockCancelled is a log parse operation binding the contract event 0xfa044b7b93a40365dc68049797c2eb06918523d694e5d56e406cac3eb35578e5.
//
// Solidity: event UnlockCancelled(address indexed sender)
func (_TicketBroker *TicketBrokerFilterer) ParseUnlockCancelled(log types.Log) (*TicketBrokerUnlockCancelled, error) {
	event := new(TicketBrokerUnlockCancelled)
	if err := _TicketBroker.contract.UnpackLog(event, "UnlockCancelled", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// TicketBrokerWinningTicketRedeemedIterator is returned from FilterWinningTicketRedeemed and is used to iterate over the raw logs and unpacked data for WinningTicketRedeemed events raised by the TicketBroker contract.
type TicketBrokerWinningTicketRedeemedIterator struct {
	Event *TicketBrokerWinningTicketRedeemed // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *TicketBrokerWinningTicketRedeemedIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(TicketBrokerWinningTicketRedeemed)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(TicketBrokerWinningTicketRedeemed)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *TicketBrokerWinningTicketRedeemedIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *TicketBrokerWinningTicketRedeemedIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// TicketBrokerWinningTicketRedeemed represents a WinningTicketRedeemed event raised by the TicketBroker contract.
type TicketBrokerWinningTicketRedeemed struct {
	Sender        common.Address
	Recipient     common.Address
	FaceValue     *big.Int
	WinProb       *big.Int
	SenderNonce   *big.Int
	RecipientRand *big.Int
	AuxData       []byte
	Raw           types.Log // Blockchain specific contextual infos
}

// FilterWinningTicketRedeemed is a free log retrieval operation binding the contract event 0xc389eb51ed006dbf2528507f010efdf5225ea596e1e1741d74f550dab1925ee7.
//
// Solidity: event WinningTicketRedeemed(address indexed sender, address indexed recipient, uint256 faceValue, uint256 winProb, uint256 senderNonce, uint256 recipientRand, bytes auxData)
func (_TicketBroker *TicketBrokerFilterer) FilterWinningTicketRedeemed(opts *bind.FilterOpts, sender []common.Address, recipient []common.Address) (*TicketBrokerWinningTicketRedeemedIterator, error) {

	var senderRule []interface{}
	for _, senderItem := range sender {
		senderRule = append(senderRule, senderItem)
	}
	var recipientRule []interface{}
	for _, recipientItem := range recipient {
		recipientRule = append(recipientRule, recipientItem)
	}

	logs, sub, err := _TicketBroker.contract.FilterLogs(opts, "WinningTicketRedeemed", senderRule, recipientRule)
	if err != nil {
		return nil, err
	}
	return &TicketBrokerWinningTicketRedeemedIterator{contract: _TicketBroker.contract, event: "WinningTicketRedeemed", logs: logs, sub: sub}, nil
}

// WatchWinningTicketRedeemed is a free log subscription operation binding the contract event 0xc389eb51ed006dbf2528507f010efdf5225ea596e1e1741d74f550dab1925ee7.
//
// Solidity: event WinningTicketRedeemed(address indexed sender, address indexed recipient, uint256 faceValue, uint256 winProb, uint256 senderNonce, uint256 recipientRand, bytes auxData)
func (_TicketBroker *TicketBrokerFilterer) WatchWinningTicketRedeemed(opts *bind.WatchOpts, sink chan<- *TicketBrokerWinningTicketRedeemed, sender []common.Address, recipient []common.Address) (event.Subscription, error) {

	var senderRule []interface{}
	for _, senderItem := range sender {
		senderRule = append(senderRule, senderItem)
	}
	var recipientRule []interface{}
	for _, recipientItem := range recipient {
		recipientRule = append(recipientRule, recipientItem)
	}

	logs, sub, err := _TicketBroker.contract.WatchLogs(opts, "WinningTicketRedeemed", senderRule, recipientRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(TicketBrokerWinningTicketRedeemed)
				if err := _TicketBroker.contract.UnpackLog(event, "WinningTicketRedeemed", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseWinningTicketRedeemed is a log parse operation binding the contract event 0xc389eb51ed006dbf2528507f010efdf5225ea596e1e1741d74f550dab1925ee7.
//
// Solidity: event WinningTicketRedeemed(address indexed sender, address indexed recipient, uint256 faceValue, uint256 winProb, uint256 senderNonce, uint256 recipientRand, bytes auxData)
func (_TicketBroker *TicketBrokerFilterer) ParseWinningTicketRedeemed(log types.Log) (*TicketBrokerWinningTicketRedeemed, error) {
	event := new(TicketBrokerWinningTicketRedeemed)
	if err := _TicketBroker.contract.UnpackLog(event, "WinningTicketRedeemed", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// TicketBrokerWinningTicketTransferIterator is returned from FilterWinningTicketTransfer and is used to iterate over the raw logs and unpacked data for WinningTicketTransfer events raised by the TicketBroker contract.
type TicketBrokerWinningTicketTransferIterator struct {
	Event *TicketBrokerWinningTicketTransfer // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *TicketBrokerWinningTicketTransferIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(TicketBrokerWinningTicketTransfer)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(TicketBrokerWinningTicketTransfer)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *TicketBrokerWinningTicketTransferIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *TicketBrokerWinningTicketTransferIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// TicketBrokerWinningTicketTransfer represents a WinningTicketTransfer event raised by the TicketBroker contract.
type TicketBrokerWinningTicketTransfer struct {
	Sender    common.Address
	Recipient common.Address
	Amount    *big.Int
	Raw       types.Log // Blockchain specific contextual infos
}

// FilterWinningTicketTransfer is a free log retrieval operation binding the contract event 0x8b87351a208c06e3ceee59d80725fd77a23b4129e1b51ca231fc89b40712649c.
//
// Solidity: event WinningTicketTransfer(address indexed sender, address indexed recipient, uint256 amount)
func (_TicketBroker *TicketBrokerFilterer) FilterWinningTicketTransfer(opts *bind.FilterOpts, sender []common.Address, recipient []common.Address) (*TicketBrokerWinningTicketTransferIterator, error) {

	var senderRule []interface{}
	for _, senderItem := range sender {
		senderRule = append(senderRule, senderItem)
	}
	var recipientRule []interface{}
	for _, recipientItem := range recipient {
		recipientRule = append(recipientRule, recipientItem)
	}

	logs, sub, err := _TicketBroker.contract.FilterLogs(opts, "WinningTicketTransfer", senderRule, recipientRule)
	if err != nil {
		return nil, err
	}
	return &TicketBrokerWinningTicketTransferIterator{contract: _TicketBroker.contract, event: "WinningTicketTransfer", logs: logs, sub: sub}, nil
}

// WatchWinningTicketTransfer is a free log subscription operation binding the contract event 0x8b87351a208c06e3ceee59d80725fd77a23b4129e1b51ca231fc89b40712649c.
//
// Solidity: event WinningTicketTransfer(address indexed sender, address indexed recipient, uint256 amount)
func (_TicketBroker *TicketBrokerFilterer) WatchWinningTicketTransfer(opts *bind.WatchOpts, sink chan<- *TicketBrokerWinningTicketTransfer, sender []common.Address, recipient []common.Address) (event.Subscription, error) {

	var senderRule []interface{}
	for _, senderItem := range sender {
		senderRule = append(senderRule, senderItem)
	}
	var recipientRule []interface{}
	for _, recipientItem := range recipient {
		recipientRule = append(recipientRule, recipientItem)
	}

	logs, sub, err := _TicketBroker.contract.WatchLogs(opts, "WinningTicketTransfer", senderRule, recipientRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(TicketBrokerWinningTicketTransfer)
				if err := _TicketBroker.contract.UnpackLog(event, "WinningTicketTransfer", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseWinningTicketTransfer is a log parse operation binding the contract event 0x8b87351a208c06e3ceee59d80725fd77a23b4129e1b51ca231fc89b40712649c.
//
// Solidity: event WinningTicketTransfer(address indexed sender, address indexed recipient, uint256 amount)
func (_TicketBroker *TicketBrokerFilterer) ParseWinningTicketTransfer(log types.Log) (*TicketBrokerWinningTicketTransfer, error) {
	event := new(TicketBrokerWinningTicketTransfer)
	if err := _TicketBroker.contract.UnpackLog(event, "WinningTicketTransfer", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// TicketBrokerWithdrawalIterator is returned from FilterWithdrawal and is used to iterate over the raw logs and unpacked data for Withdrawal events raised by the TicketBroker contract.
type TicketBrokerWithdrawalIterator struct {
	Event *TicketBrokerWithdrawal // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *TicketBrokerWithdrawalIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(TicketBrokerWithdrawal)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(TicketBrokerWithdrawal)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *TicketBrokerWithdrawalIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *TicketBrokerWithdrawalIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// TicketBrokerWithdrawal represents a Withdrawal event raised by the TicketBroker contract.
type TicketBrokerWithdrawal struct {
	Sender  common.Address
	Deposit *big.Int
	Reserve *big.Int
	Raw     types.Log // Blockchain specific contextual infos
}

// FilterWithdrawal is a free log retrieval operation binding the contract event 0xdf273cb619d95419a9cd0ec88123a0538c85064229baa6363788f743fff90deb.
//
// Solidity: event Withdrawal(address indexed sender, uint256 deposit, uint256 reserve)
func (_TicketBroker *TicketBrokerFilterer) FilterWithdrawal(opts *bind.FilterOpts, sender []common.Address) (*TicketBrokerWithdrawalIterator, error) {

	var senderRule []interface{}
	for _, senderItem := range sender {
		senderRule = append(senderRule, senderItem)
	}

	logs, sub, err := _TicketBroker.contract.FilterLogs(opts, "Withdrawal", senderRule)
	if err != nil {
		return nil, err
	}
	return &TicketBrokerWithdrawalIterator{contract: _TicketBroker.contract, event: "Withdrawal", logs: logs, sub: sub}, nil
}

// WatchWithdrawal is a free log subscription operation binding the contract event 0xdf273cb619d95419a9cd0ec88123a0538c85064229baa6363788f743fff90deb.
//
// Solidity: event Withdrawal(address indexed sender, uint256 deposit, uint256 reserve)
func (_TicketBroker *TicketBrokerFilterer) WatchWithdrawal(opts *bind.WatchOpts, sink chan<- *TicketBrokerWithdrawal, sender []common.Address) (event.Subscription, error) {

	var senderRule []interface{}
	for _, senderItem := range sender {
		senderRule = append(senderRule, senderItem)
	}

	logs, sub, err := _TicketBroker.contract.WatchLogs(opts, "Withdrawal", senderRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(TicketBrokerWithdrawal)
				if err := _TicketBroker.contract.UnpackLog(event, "Withdrawal", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseWithdrawal is a log parse operation binding the contract event 0xdf273cb619d95419a9cd0ec88123a0538c85064229baa6363788f743fff90deb.
//
// Solidity: event Withdrawal(address indexed sender, uint256 deposit, uint256 reserve)
func (_TicketBroker *TicketBrokerFilterer) ParseWithdrawal(log types.Log) (*TicketBrokerWithdrawal, error) {
	event := new(TicketBrokerWithdrawal)
	if err := _TicketBroker.contract.UnpackLog(event, "Withdrawal", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}
